import {
  startFaultProxy,
  startRedis,
  waitFor,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAppliedMarker } from './marked-batch.js';
import { TargetWriter } from './target-writer.js';
import type { TargetWriterOptions } from './types.js';
import type { TargetError } from './errors.js';

/** Each direction of the proxy holds every chunk this long: an 80 ms round trip. */
const ONE_WAY_MS = 40;
const REPLID = 'b'.repeat(40);
const MARKER = 'shardbridge:applied:wan';
const cmd = (...parts: Array<string | Buffer>): Buffer[] =>
  parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));

/** Hands `count` commands to the writer as a source stream would (waiting for 'drain'), offsets 10·n. */
async function stream(
  writer: TargetWriter,
  from: number,
  count: number,
  make: (n: number) => Buffer[],
  onWrite?: () => void,
): Promise<void> {
  for (let n = from; n < from + count; n++) {
    if (!writer.applyCommand(make(n), n * 10)) await new Promise((r) => writer.once('drain', r));
    onWrite?.();
  }
}

function nextError(writer: TargetWriter): Promise<TargetError> {
  return new Promise((resolve) => writer.once('error', resolve));
}

describe('TargetWriter across an 80 ms round trip', () => {
  let target: RedisServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    target = await startRedis();
    proxy = await startFaultProxy({ host: target.host, port: target.port });
    proxy.setDelay(ONE_WAY_MS);
  });
  afterAll(async () => {
    await proxy?.close();
    await target?.stop();
  });

  const connect = async (extra: Partial<TargetWriterOptions> = {}) => {
    const writer = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: proxy.host, port: proxy.port }],
      label: 'wan target',
      ...extra,
    });
    writer.streamReplid = REPLID;
    return writer;
  };

  it('grows its window past the fixed 1,000 commands and delivers every command in order', async () => {
    await target.client().flushall();
    const writer = await connect();
    const count = 30_000;
    await stream(writer, 1, count, (n) => cmd('RPUSH', `tokens:${n % 7}`, `t${n}`));
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(count * 10);
    expect(writer.flowWindow.grows).toBeGreaterThan(0);
    expect(writer.flowWindow.commands).toBeGreaterThan(1000);
    expect(writer.flowWindow.minRttMs).toBeGreaterThanOrEqual(2 * ONE_WAY_MS);
    await writer.close();
    const client = target.client();
    for (let list = 0; list < 7; list++) {
      const tokens = await client.lrange(`tokens:${list}`, 0, -1);
      const expected = [];
      for (let n = 1; n <= count; n++) if (n % 7 === list) expected.push(`t${n}`);
      expect(tokens).toEqual(expected);
    }
  });

  it('exactly-once: several marked batches in flight at once, data and marker exact', async () => {
    await target.client().flushall();
    const writer = await connect({ appliedMarkerKey: MARKER });
    const count = 20_000;
    // INCR, then every 50th command a source transaction of two (it must stay whole inside one batch)
    for (let n = 1; n <= count; n++) {
      let room = writer.applyCommand(cmd('INCR', 'counter'), n * 10);
      if (n % 50 === 0) {
        writer.applyCommand(cmd('MULTI'), n * 10 + 1);
        writer.applyCommand(cmd('RPUSH', 'tx', `a${n}`), n * 10 + 2);
        writer.applyCommand(cmd('RPUSH', 'tx', `b${n}`), n * 10 + 3);
        room = writer.applyCommand(cmd('EXEC'), n * 10 + 4);
      }
      if (!room) await new Promise((r) => writer.once('drain', r));
    }
    await writer.flush();
    const batches = writer.exactlyOnceBatches!;
    expect(batches.pipelined).toBe(true);
    expect(batches.mostInFlight).toBeGreaterThan(1);
    await writer.close();
    const client = target.client();
    expect(await client.get('counter')).toBe(String(count));
    const tx = await client.lrange('tx', 0, -1);
    expect(tx).toHaveLength((count / 50) * 2);
    for (let i = 0; i < tx.length; i += 2) expect([tx[i][0], tx[i + 1][0]]).toEqual(['a', 'b']);
    expect(parseAppliedMarker(await client.get(MARKER))).toEqual({
      replid: REPLID,
      offset: count * 10 + 4,
      db: 0,
      refused: false,
    });
  });

  it('exactly-once: once a batch is refused, no batch pipelined behind it applies', async () => {
    await target.client().flushall();
    const writer = await connect({ appliedMarkerKey: MARKER });
    writer.applyCommand(cmd('SET', 'first', '1'), 10);
    await writer.flush();
    // Something else writes the marker: the next batch (and every one sent behind it) must not apply.
    await target.client().set(MARKER, 'changed underneath');
    const errorPromise = nextError(writer);
    for (let n = 2; n <= 4000; n++) writer.applyCommand(cmd('SET', `later:${n}`, 'x'), n * 10);
    const error = await errorPromise;
    expect(error.code).toBe('TARGET_MARKER_MISMATCH');
    expect(error.message).toMatch(
      /^target wan target: an exactly-once batch found the applied marker changed/,
    );
    expect(error.message).toContain('nothing of this batch applied');
    expect(writer.exactlyOnceBatches!.mostInFlight).toBeGreaterThan(1);
    await expect(writer.flush()).rejects.toBe(error);
    expect(writer.acknowledgedOffset).toBe(10);
    await writer.close();
    // let every batch that was on the wire reach the target
    await new Promise((r) => setTimeout(r, 4 * ONE_WAY_MS));
    expect(await target.client().keys('later:*')).toEqual([]);
    expect(await target.client().get(MARKER)).toBe('changed underneath');
  });

  it('exactly-once: a command the target refuses inside a batch is named, later batches do not apply', async () => {
    await target.client().flushall();
    await target.client().set('a-string', 'x');
    const writer = await connect({ appliedMarkerKey: MARKER });
    const errorPromise = nextError(writer);
    // 3,000 SETs in batches of 1,024; command 1,500 (second batch) meets a key of the wrong type
    for (let n = 1; n <= 3000; n++) {
      writer.applyCommand(n === 1500 ? cmd('LPUSH', 'a-string', 'v') : cmd('SET', `k:${n}`, 'x'), n * 10);
    }
    const error = await errorPromise;
    expect(error.code).toBe('TARGET_WRITE_FAILED');
    expect(error.message).toContain('LPUSH "a-string"');
    expect(error.message).toContain('WRONGTYPE');
    await writer.close();
    await new Promise((r) => setTimeout(r, 4 * ONE_WAY_MS));
    const client = target.client();
    // Like a command refused inside MULTI … EXEC, the rest of its batch ran; the marker records that batch's end,
    // flagged, and no batch after it applied.
    const marker = parseAppliedMarker(await client.get(MARKER));
    expect(marker?.refused).toBe(true);
    expect(marker!.offset).toBeGreaterThanOrEqual(1500 * 10);
    const last = marker!.offset / 10;
    expect(await client.exists(`k:${last}`)).toBe(1);
    expect(await client.exists(`k:${last + 1}`)).toBe(0);
    expect(await client.exists('k:3000')).toBe(0);
  });

  it('exactly-once: a batch from an owner older than the fence epoch on the target applies nothing', async () => {
    await target.client().flushall();
    await target.client().set(`${MARKER}:epoch`, '7');
    const stale = await connect({ appliedMarkerKey: MARKER, fenceEpoch: 6 });
    const errorPromise = nextError(stale);
    for (let n = 1; n <= 2000; n++) stale.applyCommand(cmd('SET', `stale:${n}`, 'x'), n * 10);
    const error = await errorPromise;
    expect(error.code).toBe('TARGET_FENCED');
    expect(error.message).toContain('another worker took the shard over (fence epoch 7');
    await stale.close();
    await new Promise((r) => setTimeout(r, 4 * ONE_WAY_MS));
    expect(await target.client().keys('stale:*')).toEqual([]);

    const owner = await connect({ appliedMarkerKey: MARKER, fenceEpoch: 8 });
    owner.applyCommand(cmd('SET', 'owned', '1'), 10);
    await owner.flush();
    await owner.close();
    expect(await target.client().get(`${MARKER}:epoch`)).toBe('8');
    expect(await target.client().get('owned')).toBe('1');
  });

  it('exactly-once: a command a script cannot carry goes in a MULTI … EXEC batch of its own, in order', async () => {
    await target.client().flushall();
    const writer = await connect({ appliedMarkerKey: MARKER });
    const many = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    for (let n = 1; n <= 3000; n++) {
      writer.applyCommand(n === 1200 ? cmd('RPUSH', 'list', ...many) : cmd('RPUSH', 'list', `s${n}`), n * 10);
    }
    await writer.flush();
    expect(writer.exactlyOnceBatches!.mostInFlight).toBeGreaterThan(1);
    await writer.close();
    const list = await target.client().lrange('list', 0, -1);
    expect(list).toHaveLength(2999 + 5000);
    expect(list[1198]).toBe('s1199');
    expect(list[1199]).toBe('m0');
    expect(list[1199 + 5000]).toBe('s1201');
    expect(parseAppliedMarker(await target.client().get(MARKER))?.offset).toBe(30_000);
  });

  it('a target that slows down shrinks the window; bytes in flight stay within the budget', async () => {
    await target.client().flushall();
    const budget = 4 * 1024 * 1024;
    const writer = await connect({ maxInFlightBytes: budget, replyTimeoutMs: 30_000 });
    const value = Buffer.alloc(512, 0x61);
    let most = 0;
    const watch = () => (most = Math.max(most, writer.flowWindow.inFlightBytes));
    await stream(writer, 1, 30_000, (n) => cmd('SET', `v:${n % 5000}`, value), watch);
    const grown = writer.flowWindow.commands;
    expect(grown).toBeGreaterThan(1000);
    // The target stops executing writes for 3 s while the source keeps sending.
    await target.client().call('CLIENT', 'PAUSE', '3000', 'WRITE');
    const feeding = stream(writer, 30_001, 30_000, (n) => cmd('SET', `v:${n % 5000}`, value), watch);
    await waitFor('the window to shrink', () => writer.flowWindow.shrinks > 0, 20_000);
    expect(writer.flowWindow.commands).toBeLessThan(grown);
    await feeding;
    await writer.flush();
    expect(most).toBeLessThanOrEqual(budget + 600);
    expect(writer.acknowledgedOffset).toBe(60_000 * 10);
    await writer.close();
  });
});
