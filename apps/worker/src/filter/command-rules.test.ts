import { describe, expect, it } from 'vitest';
import type { SyncFilterSpec } from '@shardbridge/plan';
import { CommandRules } from './command-rules.js';

const cmd = (...parts: string[]) => parts.map((part) => Buffer.from(part));
const text = (args: Buffer[] | null) => args?.map((arg) => arg.toString('latin1')) ?? null;
const rules = (spec: SyncFilterSpec) => new CommandRules(spec);

describe('CommandRules', () => {
  const prefixes = rules({ keys: { prefixes: ['user:', 'cart:'] } });

  it('passes a kept command through as the same array (no copy)', () => {
    const args = cmd('SET', 'user:1', 'v');
    expect(prefixes.command(args, 0)).toBe(args);
  });

  it('drops a command on a filtered key, and keyless commands pass', () => {
    expect(prefixes.command(cmd('SET', 'session:1', 'v'), 0)).toBeNull();
    const flush = cmd('FLUSHALL');
    expect(prefixes.command(flush, 0)).toBe(flush);
  });

  it('compares prefixes as bytes, binary keys included', () => {
    const binary = rules({ keys: { prefixes: ['\u00e9t'] } });
    expect(
      binary.command([Buffer.from('SET'), Buffer.from('\u00e9t\u00e9', 'utf8'), Buffer.from('v')], 0),
    ).not.toBeNull();
    // the same character in latin1 is one byte 0xe9, not the UTF-8 pair the prefix is made of
    expect(
      binary.command([Buffer.from('SET'), Buffer.from('\u00e9t\u00e9', 'latin1'), Buffer.from('v')], 0),
    ).toBeNull();
  });

  it('deny mode and regex', () => {
    const deny = rules({ keys: { regex: '^tmp:\\d+$', mode: 'deny' } });
    expect(deny.command(cmd('SET', 'tmp:12', 'v'), 0)).toBeNull();
    expect(text(deny.command(cmd('SET', 'tmp:x', 'v'), 0))).toEqual(['SET', 'tmp:x', 'v']);
  });

  it('a multi-key command across the filter fails naming the keys, unless split is asked for', () => {
    expect(() => prefixes.command(cmd('DEL', 'user:1', 'session:1'), 0)).toThrow(
      expect.objectContaining({ code: 'FILTER_MULTI_KEY', message: expect.stringContaining('"session:1"') }),
    );
    const split = rules({ keys: { prefixes: ['user:'] }, multiKeyPolicy: 'split' });
    expect(text(split.command(cmd('DEL', 'session:1', 'user:1', 'x', 'user:2'), 0))).toEqual([
      'DEL',
      'user:1',
      'user:2',
    ]);
    expect(text(split.command(cmd('UNLINK', 'user:1', 'x'), 0))).toEqual(['UNLINK', 'user:1']);
    expect(text(split.command(cmd('MSET', 'a', '1', 'user:1', '2', 'b', 'user:x'), 0))).toEqual([
      'MSET',
      'user:1',
      '2',
    ]);
    expect(text(split.command(cmd('MSETNX', 'user:1', 'a', 'z', 'b'), 0))).toEqual(['MSETNX', 'user:1', 'a']);
  });

  it('split keeps values byte-exact (binary values with CRLF and NUL)', () => {
    const split = rules({ keys: { prefixes: ['k'] }, multiKeyPolicy: 'split' });
    const value = Buffer.from([0, 13, 10, 255, 36, 42]);
    const out = split.command(
      [Buffer.from('MSET'), Buffer.from('x'), Buffer.from('1'), Buffer.from('k1'), value],
      0,
    );
    expect(out).toHaveLength(3);
    expect(out![2]).toBe(value);
  });

  it('a command that cannot be split errors even under split', () => {
    const split = rules({ keys: { prefixes: ['user:'] }, multiKeyPolicy: 'split' });
    expect(() => split.command(cmd('RENAME', 'user:1', 'other'), 0)).toThrow(
      expect.objectContaining({
        code: 'FILTER_MULTI_KEY',
        message: expect.stringContaining('cannot be split'),
      }),
    );
    expect(() => split.command(cmd('SUNIONSTORE', 'user:d', 'user:a', 'b'), 0)).toThrow(/SUNIONSTORE/);
    // every key on one side is fine
    expect(split.command(cmd('RENAME', 'x', 'y'), 0)).toBeNull();
  });

  it('denied command names, case-insensitively', () => {
    const deny = rules({ commands: { deny: ['flushall', 'FlushDb'] } });
    expect(deny.command(cmd('flushall'), 0)).toBeNull();
    expect(deny.command(cmd('FLUSHDB', 'ASYNC'), 0)).toBeNull();
    expect(deny.isDenied('FLUSHALL')).toBe(true);
    expect(deny.command(cmd('SET', 'a', 'b'), 0)).not.toBeNull();
  });

  it('dbs and dbMap for RDB keys', () => {
    const map = rules({ dbs: { deny: [2] }, dbMap: { '3': 0 }, keys: { prefixes: ['k'] } });
    expect(map.restoreDb(3, Buffer.from('k1'))).toBe(0);
    expect(map.restoreDb(1, Buffer.from('k1'))).toBe(1);
    expect(map.restoreDb(2, Buffer.from('k1'))).toBeNull();
    expect(map.restoreDb(3, Buffer.from('x'))).toBeNull();
    const allow = rules({ dbs: { allow: [0] } });
    expect(allow.restoreDb(0, Buffer.from('a'))).toBe(0);
    expect(allow.restoreDb(5, Buffer.from('a'))).toBeNull();
  });

  it('MOVE, COPY … DB and SWAPDB follow the db rules', () => {
    const map = rules({ dbs: { deny: [9] }, dbMap: { '3': 0, '4': 1 } });
    expect(text(map.command(cmd('MOVE', 'k', '4'), 0))).toEqual(['MOVE', 'k', '1']);
    expect(text(map.command(cmd('MOVE', 'k', '9'), 0))).toEqual(['DEL', 'k']);
    expect(() => map.command(cmd('MOVE', 'k', '3'), 0)).toThrow(
      expect.objectContaining({ code: 'FILTER_DB_CROSSING' }),
    );
    expect(text(map.command(cmd('COPY', 'a', 'b', 'DB', '4', 'REPLACE'), 0))).toEqual([
      'COPY',
      'a',
      'b',
      'DB',
      '1',
      'REPLACE',
    ]);
    expect(map.command(cmd('COPY', 'a', 'b', 'db', '9'), 0)).toBeNull();
    expect(() => map.command(cmd('SWAPDB', '0', '3'), 0)).toThrow(/swaps dbs 0 and 3/);
    const swap = cmd('SWAPDB', '0', '1');
    expect(map.command(swap, 0)).toBe(swap);
  });
});
