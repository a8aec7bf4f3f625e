import { describe, expect, it } from 'vitest';
import { ShardFilter } from './shard-filter.js';

const cmd = (...parts: string[]) => parts.map((part) => Buffer.from(part));

describe('ShardFilter', () => {
  it('tells the writer the mapped db of the db a stream restarts in, and keeps the source db for checkpoints', () => {
    const filter = new ShardFilter({ dbMap: { '0': 2 }, dbs: { deny: [5] } });
    expect(filter.startStream(0)).toBe(2);
    // the writer is in db 2 already: no SELECT of ours
    expect(filter.push(cmd('SET', 'a', '1'), 10)).toEqual({
      kind: 'forward',
      commands: [{ args: cmd('SET', 'a', '1'), offsetAfter: 10 }],
    });
    expect(filter.push(cmd('SELECT', '5'), 20).kind).toBe('drop');
    expect(filter.push(cmd('SET', 'b', '1'), 30).kind).toBe('drop');
    expect(filter.sourceDbAt(15)).toBe(0);
    expect(filter.sourceDbAt(30)).toBe(5);
    expect(filter.commandsFiltered).toBe(1);
    // a resume in a filtered db: the writer may sit in 0, nothing is written until the source selects another db
    expect(filter.startStream(5)).toBe(0);
    expect(filter.push(cmd('SET', 'c', '1'), 40).kind).toBe('drop');
    expect(filter.commandsFiltered).toBe(2);
  });

  it('counts RDB keys it leaves out', () => {
    const filter = new ShardFilter({ keys: { prefixes: ['k'] } });
    expect(filter.restoreDb(0, Buffer.from('k1'))).toBe(0);
    expect(filter.restoreDb(0, Buffer.from('x'))).toBeNull();
    expect(filter.keysFiltered).toBe(1);
  });
});
