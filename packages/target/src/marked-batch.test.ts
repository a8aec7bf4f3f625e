import { describe, expect, it } from 'vitest';
import { MarkedBatch, parseAppliedMarker, type MarkedBatchUnit } from './marked-batch.js';
import type { PendingReply } from './transport.js';

const REPLID = 'a'.repeat(40);
const pending = (name: string): PendingReply => ({ seq: -1, name, key: null, bytes: 10 });
const command = (name: string, n: number): Buffer[] => [Buffer.from(name), Buffer.from(`key:${n}`)];

/** A batch whose sealed units are collected (sent at once, confirmed by hand). */
function collectingBatch() {
  const sent: MarkedBatchUnit[] = [];
  const batch = new MarkedBatch(
    Buffer.from('shardbridge:applied:test'),
    () => sent.length,
    (unit) => sent.push(unit),
  );
  batch.replid = REPLID;
  /** stream commands of each sent unit (the marker's own SELECT/SET/SELECT removed) and the offset it claims */
  const summary = () =>
    sent.map((unit) => {
      const set = unit.commands.find(
        (args) => args[0].toString() === 'SET' && args[1].toString().startsWith('shardbridge'),
      );
      return {
        commands: unit.commands.slice(0, -3).map((args) => args[0].toString()),
        marker: parseAppliedMarker(set![2].toString())!.offset,
      };
    });
  return { batch, sent, summary };
}

describe('MarkedBatch', () => {
  it('never seals a batch inside a source transaction, also when it is full there', () => {
    const { batch, summary } = collectingBatch();
    // 255 single commands, each completing offset 10·n, then a 3-command transaction ending at offset 3000:
    // the 256th command (the transaction's first) fills the batch, but the batch must wait for the EXEC's offset.
    for (let n = 1; n <= 255; n++) batch.add(0, command('SET', n), pending('SET'), 10 * n, 0);
    batch.add(0, command('RPUSH', 256), pending('RPUSH'), -1, 0);
    batch.add(0, command('HSET', 257), pending('HSET'), -1, 0);
    expect(summary()).toEqual([]);
    batch.add(0, command('SET', 258), pending('SET'), 3000, 0);
    const [first] = summary();
    expect(first.commands).toHaveLength(258);
    expect(first.commands.slice(-3)).toEqual(['RPUSH', 'HSET', 'SET']);
    expect(first.marker).toBe(3000);
  });

  it('an explicit flush inside a transaction leaves the batch open until the transaction ends', () => {
    const { batch, summary } = collectingBatch();
    batch.add(0, command('SET', 1), pending('SET'), 100, 0);
    batch.add(0, command('RPUSH', 2), pending('RPUSH'), -1, 0);
    batch.flush();
    expect(summary()).toEqual([]);
    batch.add(0, command('HSET', 3), pending('HSET'), 200, 0);
    batch.flush();
    expect(summary()).toEqual([{ commands: ['SET', 'RPUSH', 'HSET'], marker: 200 }]);
  });

  it('claims in each marker exactly the offset of the last command its batch holds', () => {
    const { batch, sent, summary } = collectingBatch();
    for (let n = 1; n <= 600; n++) {
      const inTransaction = n % 3 !== 0; // transactions of 3 commands, each ending at offset n
      batch.add(
        0,
        command(inTransaction ? 'RPUSH' : 'EXEC-LAST', n),
        pending('X'),
        inTransaction ? -1 : n,
        0,
      );
      if (sent.length > 0 && n % 7 === 0) batch.confirmed();
    }
    batch.confirmed();
    batch.flush();
    while (sent.length < 3) batch.confirmed();
    for (const unit of summary()) expect(unit.commands.at(-1)).toBe('EXEC-LAST');
    const markers = summary().map((unit) => unit.marker);
    expect(markers.every((offset) => offset % 3 === 0)).toBe(true);
  });

  it('pipelines script batches, each expecting the marker of the one before; a MULTI … EXEC one waits for none out', () => {
    const sent: MarkedBatchUnit[] = [];
    const batch = new MarkedBatch(
      Buffer.from('shardbridge:applied:test'),
      () => sent.length,
      (unit) => sent.push(unit),
      { maxCommands: 2 },
    );
    batch.replid = REPLID;
    batch.scripts = true;
    for (let n = 1; n <= 4; n++) batch.add(0, command('SET', n), pending('SET'), 10 * n, 0);
    expect(sent.map((unit) => [unit.script, unit.offset])).toEqual([
      [true, 20],
      [true, 40],
    ]);
    expect(sent[0].expectedMarker).toBeNull();
    expect(sent[1].expectedMarker).toBe(sent[0].marker);
    expect(batch.inFlight).toEqual({ now: 2, most: 2 });
    // a command no script may run: a batch of its own, sent only once both batches before it are confirmed
    batch.add(0, command('FUNCTION', 5), pending('FUNCTION'), 50, 0, false);
    batch.add(0, command('SET', 6), pending('SET'), 60, 0);
    batch.add(0, command('SET', 7), pending('SET'), 70, 0);
    expect(sent).toHaveLength(2);
    batch.confirmed();
    expect(sent).toHaveLength(2);
    batch.confirmed();
    expect(sent.map((unit) => [unit.script, unit.offset])).toEqual([
      [true, 20],
      [true, 40],
      [false, 50],
      [true, 70],
    ]);
    expect(sent[2].commands.map((args) => args[0].toString())).toEqual([
      'FUNCTION',
      'SELECT',
      'SET',
      'SELECT',
    ]);
    expect(sent[3].expectedMarker).toBe(sent[2].marker);
  });
});
