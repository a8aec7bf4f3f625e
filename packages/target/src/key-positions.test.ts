import { describe, expect, it } from 'vitest';
import { keyPositions } from './command-keys.js';

const positions = (...parts: string[]) => keyPositions(parts.map((part) => Buffer.from(part)));

describe('keyPositions', () => {
  it('single-key commands: the first argument', () => {
    expect(positions('SET', 'k', 'v', 'EX', '10')).toEqual([1]);
    expect(positions('xadd', 's', '*', 'f', 'v')).toEqual([1]);
  });
  it('keyless commands: none', () => {
    expect(positions('FLUSHALL')).toEqual([]);
    expect(positions('PUBLISH', 'chan', 'msg')).toEqual([]);
    expect(positions('FUNCTION', 'LOAD', 'code')).toEqual([]);
  });
  it('every argument, pairs, and keys after an operation', () => {
    expect(positions('DEL', 'a', 'b', 'c')).toEqual([1, 2, 3]);
    expect(positions('MSET', 'a', '1', 'b', '2')).toEqual([1, 3]);
    expect(positions('BITOP', 'AND', 'dest', 'a', 'b')).toEqual([2, 3, 4]);
    expect(positions('RENAME', 'a', 'b')).toEqual([1, 2]);
    expect(positions('LMOVE', 'a', 'b', 'LEFT', 'RIGHT')).toEqual([1, 2]);
  });
  it('numkeys forms', () => {
    expect(positions('ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual([1, 3, 4]);
    expect(positions('EVAL', 'return 1', '2', 'a', 'b', 'argv')).toEqual([3, 4]);
    expect(positions('LMPOP', '2', 'a', 'b', 'LEFT')).toEqual([2, 3]);
    expect(positions('BLMPOP', '0', '1', 'a', 'LEFT')).toEqual([3]);
  });
  it('subcommand forms and SORT … STORE', () => {
    expect(positions('XGROUP', 'CREATE', 's', 'g', '$')).toEqual([2]);
    expect(positions('SORT', 'src', 'BY', 'nosort', 'STORE', 'dst')).toEqual([1, 5]);
  });
});
