import { describe, expect, it } from 'vitest';
import { ALWAYS_SKIPPED, classifyCommand, commandName, firstKey } from './command-classification.js';

const args = (...parts: string[]) => parts.map((p) => Buffer.from(p));

describe('command classification', () => {
  const skipped = new Set([...ALWAYS_SKIPPED, 'PUBLISH']);

  it('classifies by upper-cased name', () => {
    expect(commandName(args('select', '1'))).toBe('SELECT');
    expect(classifyCommand('SELECT', skipped)).toBe('select');
    expect(classifyCommand('PING', skipped)).toBe('skip');
    expect(classifyCommand('REPLCONF', skipped)).toBe('skip');
    expect(classifyCommand('PUBLISH', skipped)).toBe('skip');
    expect(classifyCommand('MULTI', skipped)).toBe('multi');
    expect(classifyCommand('EXEC', skipped)).toBe('exec');
    expect(classifyCommand('DISCARD', skipped)).toBe('discard');
    expect(classifyCommand('SET', skipped)).toBe('write');
  });

  it('finds the first key without ever returning a value or a script', () => {
    expect(firstKey('SET', args('SET', 'k', 'v'))?.toString()).toBe('k');
    expect(firstKey('EVAL', args('EVAL', 'return 1', '0'))).toBeNull();
    expect(firstKey('EVALSHA', args('EVALSHA', 'abc', '2', 'k1', 'k2', 'arg'))?.toString()).toBe('k1');
    expect(firstKey('FCALL', args('FCALL', 'f', '1', 'k', 'arg'))?.toString()).toBe('k');
    expect(firstKey('LMPOP', args('LMPOP', '2', 'a', 'b', 'LEFT'))?.toString()).toBe('a');
    expect(firstKey('BZMPOP', args('BZMPOP', '0', '1', 'z', 'MIN'))?.toString()).toBe('z');
    expect(firstKey('BITOP', args('BITOP', 'AND', 'dest', 'a'))?.toString()).toBe('dest');
    expect(firstKey('XGROUP', args('XGROUP', 'CREATE', 's', 'g', '$'))?.toString()).toBe('s');
    expect(firstKey('PUBLISH', args('PUBLISH', 'ch', 'message'))).toBeNull();
    expect(firstKey('FUNCTION', args('FUNCTION', 'LOAD', 'code'))).toBeNull();
    expect(firstKey('FLUSHALL', args('FLUSHALL'))).toBeNull();
  });
});
