import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { NO_CAPS } from '@shardbridge/plan';
import { assertSameContents, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.js';
import { ShardSync } from '../shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

// Issue 13, item 4: a cap is an upper bound. Each rate is measured over at least 3 s with the elapsed time taken
// from before the first read to after the last one, so a stalled machine can only make the rate look lower.
const TOLERANCE = 1.1;

/** Rate of `read()` over at least `seconds`, counted from before the first read to after the last one. */
async function measureRate(read: () => Promise<number>, seconds: number): Promise<number> {
  const startedAt = Date.now();
  const first = await read();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const last = await read();
  return ((last - first) * 1000) / (Date.now() - startedAt);
}

describe('ShardSync rate caps (real redis-server)', () => {
  let servers: RedisServer[] = [];
  let sync: ShardSync | null = null;
  let running: Promise<void> | null = null;

  afterEach(async () => {
    await sync?.stop();
    await running?.catch(() => undefined);
    await Promise.all(servers.map((server) => server.stop()));
    servers = [];
    sync = null;
  });

  function start(
    source: RedisServer,
    target: RedisServer,
    caps: ConstructorParameters<typeof ShardSync>[0]['rateCaps'],
  ) {
    sync = new ShardSync({
      shardId: 'cap-0',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      rttIntervalMs: 200,
      rateCaps: caps,
    });
    running = sync.run();
    running.catch(() => undefined);
    return sync;
  }

  it('holds the stream to its ops cap, and a cap changed live takes effect without a resync', async () => {
    const [source, target] = (servers = await Promise.all([startRedis(), startRedis()]));
    const shard = start(source, target, { opsPerSecond: 2000, bytesPerSecond: null });
    await waitFor('the shard streaming', () => shard.progress.phase === 'incremental', 30_000);
    const sourceClient = source.client();
    const targetClient = target.client();
    // Far more than the cap lets through while we measure: the source buffers the rest for the replica.
    const burst = sourceClient.pipeline();
    for (let i = 0; i < 20_000; i++) burst.set(`k:${i}`, 'v');
    await burst.exec();
    const keys = () => targetClient.dbsize();
    await waitFor('the cap holding the shard back', () => shard.progress.rateCap?.throttled === true, 30_000);

    const atFirstCap = await measureRate(keys, 3);
    expect(atFirstCap).toBeGreaterThan(0);
    expect(atFirstCap).toBeLessThanOrEqual(2000 * TOLERANCE);

    shard.setRateCaps({ opsPerSecond: 500, bytesPerSecond: null });
    await new Promise((resolve) => setTimeout(resolve, 300)); // what the writer held at the old cap lands
    const atSecondCap = await measureRate(keys, 3);
    expect(atSecondCap).toBeLessThanOrEqual(500 * TOLERANCE);
    expect(shard.progress.rateCap).toMatchObject({ opsPerSecond: 500, bytesPerSecond: null });
    expect(shard.progress.rateCap!.throttledMs).toBeGreaterThan(0);

    shard.setRateCaps(NO_CAPS);
    await waitFor('every key on the target', async () => (await keys()) === 20_000, 60_000);
    await assertSameContents(sourceClient, targetClient);
    expect(shard.progress.rateCap?.throttled).toBe(false);
    // One full sync at the start, none since: the caps changed on the running link.
    expect(Number((await source.info('stats')).sync_full)).toBe(1);
    expect(shard.progress.fullSyncs).toBe(1);
  }, 120_000);

  it('holds the full sync (RDB) to its bytes cap', async () => {
    const [source, target] = (servers = await Promise.all([startRedis(), startRedis()]));
    const sourceClient = source.client();
    // Random values: the RDB compresses repeated ones to nothing.
    const load = sourceClient.pipeline();
    for (let i = 0; i < 6000; i++) load.set(`rdb:${i}`, randomBytes(500).toString('hex'));
    await load.exec();
    const cap = 1_000_000;
    const shard = start(source, target, { opsPerSecond: null, bytesPerSecond: cap });
    await waitFor('the RDB transfer', () => shard.progress.rdbBytesDone > 0, 30_000);
    const rate = await measureRate(async () => shard.progress.rdbBytesDone, 3);
    expect(shard.progress.phase).toBe('full-sync'); // the whole window was inside the RDB load
    expect(rate).toBeLessThanOrEqual(cap * TOLERANCE);
    expect(shard.progress.rateCap?.throttledMs).toBeGreaterThan(0);
    await waitFor('the RDB loaded', () => shard.progress.phase === 'incremental', 60_000);
    await assertSameContents(sourceClient, target.client());
  }, 120_000);

  it("warns before the source's replica output buffer limit drops the link, and clears once it drained", async () => {
    const [source, target] = (servers = await Promise.all([startRedis(), startRedis()]));
    const sourceClient = source.client();
    const limit = 8 * 1024 * 1024;
    await sourceClient.config('SET', 'client-output-buffer-limit', `replica ${limit} 0 0`);
    const shard = start(source, target, { opsPerSecond: null, bytesPerSecond: 100_000 });
    await waitFor('the shard streaming', () => shard.progress.phase === 'incremental', 30_000);
    // ~5 MiB at once against a 100 kB/s cap: past half the limit, below the limit itself.
    const burst = sourceClient.pipeline();
    const value = 'y'.repeat(1024);
    for (let i = 0; i < 5000; i++) burst.set(`b:${i}`, value);
    await burst.exec();
    await waitFor('the output buffer warning', () => shard.progress.outputBuffer?.warning === true, 30_000);
    expect(shard.progress.outputBuffer?.limitBytes).toBe(limit);
    expect(shard.progress.lagBytes).toBeGreaterThan(limit / 2);
    shard.setRateCaps(NO_CAPS);
    await waitFor('the warning cleared', () => shard.progress.outputBuffer?.warning === false, 60_000);
    await waitFor('every key on the target', async () => (await target.client().dbsize()) === 5000, 60_000);
    expect(shard.progress.reconnects).toBe(0);
  }, 120_000);
});
