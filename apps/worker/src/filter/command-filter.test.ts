import { describe, expect, it } from 'vitest';
import type { SyncFilterSpec } from '@shardbridge/plan';
import { CommandFilter, type FilterStep } from './command-filter.js';
import { CommandRules } from './command-rules.js';

const cmd = (...parts: string[]) => parts.map((part) => Buffer.from(part));
const filterOf = (spec: SyncFilterSpec, db = 0) => new CommandFilter(new CommandRules(spec), db, db);
/** a step as text: forwarded commands with their offsets, or the kind */
const show = (step: FilterStep) =>
  step.kind === 'forward'
    ? step.commands.map((c) => `${c.args.map((a) => a.toString('latin1')).join(' ')}@${c.offsetAfter}`)
    : step.kind;

describe('CommandFilter', () => {
  it('drops filtered commands (their offset still counts) and forwards the rest unchanged', () => {
    const filter = filterOf({ keys: { prefixes: ['a'] } });
    expect(show(filter.push(cmd('SET', 'a1', 'x'), 10))).toEqual(['SET a1 x@10']);
    expect(show(filter.push(cmd('SET', 'b1', 'x'), 20))).toBe('drop');
    expect(filter.filteredCommands).toBe(1);
  });

  it('source SELECTs are dropped; the writer gets a SELECT of the mapped db before the next kept command', () => {
    const filter = filterOf({ dbMap: { '3': 0 }, dbs: { deny: [5] } });
    expect(show(filter.push(cmd('SELECT', '3'), 10))).toBe('drop');
    expect(filter.sourceDb).toBe(3);
    // db 3 maps to 0, the writer is already in 0: no SELECT needed
    expect(show(filter.push(cmd('SET', 'k', 'v'), 20))).toEqual(['SET k v@20']);
    expect(show(filter.push(cmd('SELECT', '5'), 30))).toBe('drop');
    expect(show(filter.push(cmd('SET', 'k', 'v'), 40))).toBe('drop');
    expect(show(filter.push(cmd('SELECT', '1'), 50))).toBe('drop');
    expect(show(filter.push(cmd('DEL', 'k'), 60))).toEqual(['SELECT 1@-1', 'DEL k@60']);
    expect(show(filter.push(cmd('SELECT', '3'), 70))).toBe('drop');
    expect(show(filter.push(cmd('INCR', 'n'), 80))).toEqual(['SELECT 0@-1', 'INCR n@80']);
  });

  it('MULTI/EXEC: held until EXEC, then forwarded with only the kept commands', () => {
    const filter = filterOf({ keys: { prefixes: ['keep:'] } });
    expect(filter.push(cmd('MULTI'), 5).kind).toBe('hold');
    expect(filter.push(cmd('SET', 'keep:1', 'a'), 10).kind).toBe('hold');
    expect(filter.push(cmd('SET', 'drop:1', 'b'), 20).kind).toBe('hold');
    expect(filter.push(cmd('RPUSH', 'keep:list', 'c'), 30).kind).toBe('hold');
    expect(show(filter.push(cmd('EXEC'), 40))).toEqual([
      'MULTI@-1',
      'SET keep:1 a@-1',
      'RPUSH keep:list c@-1',
      'EXEC@40',
    ]);
  });

  it('a transaction with nothing kept is dropped whole', () => {
    const filter = filterOf({ keys: { prefixes: ['keep:'] } });
    filter.push(cmd('MULTI'), 5);
    filter.push(cmd('SET', 'drop:1', 'a'), 10);
    filter.push(cmd('INCR', 'drop:2'), 20);
    expect(filter.push(cmd('EXEC'), 30).kind).toBe('drop');
    expect(filter.filteredCommands).toBe(2);
  });

  it('a SELECT inside a dropped transaction still moves the source db, and the writer learns it when needed', () => {
    const filter = filterOf({ dbs: { deny: [2] } });
    filter.push(cmd('MULTI'), 5);
    filter.push(cmd('SELECT', '2'), 10);
    filter.push(cmd('SET', 'x', '1'), 20);
    expect(filter.push(cmd('EXEC'), 30).kind).toBe('drop');
    expect(filter.sourceDb).toBe(2);
    expect(filter.push(cmd('SET', 'y', '1'), 40).kind).toBe('drop');
    filter.push(cmd('SELECT', '0'), 50);
    // the writer was never told about db 2: still in 0, no SELECT needed
    expect(show(filter.push(cmd('SET', 'z', '1'), 60))).toEqual(['SET z 1@60']);
  });

  it('a SELECT inside a kept transaction becomes the mapped SELECT inside it', () => {
    const filter = filterOf({ dbMap: { '4': 2 } });
    filter.push(cmd('MULTI'), 5);
    filter.push(cmd('SET', 'a', '1'), 10);
    filter.push(cmd('SELECT', '4'), 20);
    filter.push(cmd('SET', 'b', '1'), 30);
    expect(show(filter.push(cmd('EXEC'), 40))).toEqual([
      'MULTI@-1',
      'SET a 1@-1',
      'SELECT 2@-1',
      'SET b 1@-1',
      'EXEC@40',
    ]);
    expect(filter.sourceDb).toBe(4);
  });

  it('a split command inside a transaction', () => {
    const filter = filterOf({ keys: { prefixes: ['k'] }, multiKeyPolicy: 'split' });
    filter.push(cmd('MULTI'), 1);
    filter.push(cmd('DEL', 'k1', 'x', 'k2'), 2);
    expect(show(filter.push(cmd('EXEC'), 3))).toEqual(['MULTI@-1', 'DEL k1 k2@-1', 'EXEC@3']);
  });

  it('resumes in the checkpoint db', () => {
    const filter = new CommandFilter(new CommandRules({ dbMap: { '3': 0 } }), 3, 0);
    expect(show(filter.push(cmd('SET', 'k', 'v'), 10))).toEqual(['SET k v@10']);
  });
});
