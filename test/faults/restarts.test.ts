import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardView } from '../control-plane/support/api.js';
import { loadClusterData } from '../control-plane/support/cluster-data.js';
import { FaultBed, resyncsSince, type ResyncCounters } from './support/fault-bed.js';
import { describeComparison, type TokenComparison } from './support/token-check.js';
import { startTokenWrites, type TokenWriteStats } from './support/token-writes.js';

// Issue 9: restarts of every Redis a sync depends on, under a continuous write load: the queue's Redis (AOF), the
// target (AOF), a source master that saves an RDB on shutdown, and one that has no persistence at all.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const streaming = (shards: ShardView[]) => shards.every((shard) => shard.phase === 'incremental');

describe('faults: restarts of the queue’s Redis, the target and source masters', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await FaultBed.start();
    await loadClusterData(bed.router, 30);
    await bed.submit('faults-restarts');
    await bed.waitForShards('every shard streaming', streaming);
  });

  afterAll(() => bed?.stop());

  /** Runs `restart` under a token load named `load`, waits until every shard streams again, and compares. */
  async function underLoad(
    load: string,
    restart: () => Promise<void>,
    settled?: (comparison: TokenComparison) => boolean,
  ): Promise<{ comparison: TokenComparison; resyncs: ResyncCounters; written: TokenWriteStats }> {
    // The shards' own counters: a restarted master's INFO stats start from zero.
    const before = await bed.shardResyncs();
    const writes = startTokenWrites(bed.router, { name: load });
    let written: TokenWriteStats;
    try {
      await sleep(500);
      await restart();
      await sleep(1000);
      await bed.waitForShards(`every shard streaming after the ${load} restart`, streaming);
      await sleep(500);
    } finally {
      written = await writes.stop();
    }
    const comparison = await bed.converge(load, settled);
    const resyncs = resyncsSince(before, await bed.shardResyncs());
    console.log(
      `${load} restart: ${written.acknowledged} write transactions (${written.failed} failed while down), ` +
        `${resyncs.partial} partial / ${resyncs.full} full resyncs; ${describeComparison(comparison)}`,
    );
    return { comparison, resyncs, written };
  }

  it('the queue’s Redis restarts (AOF): checkpoints and jobs survive, nothing lost, no full resync', async () => {
    const { comparison, resyncs } = await underLoad('queue', () => bed.queue.restart());
    expect(comparison.lost, describeComparison(comparison)).toBe(0);
    expect(comparison.others, describeComparison(comparison)).toEqual([]);
    expect(resyncs.full).toBe(0);
  }, 120_000);

  it('the target restarts (AOF): every shard resumes with +CONTINUE, nothing lost', async () => {
    const { comparison, resyncs } = await underLoad('target', () => bed.target.restart());
    expect(comparison.lost, describeComparison(comparison)).toBe(0);
    expect(comparison.duplicated, describeComparison(comparison)).toBe(0);
    expect(comparison.others, describeComparison(comparison)).toEqual([]);
    expect(resyncs.full).toBe(0);
    expect(resyncs.partial).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('a source master restarts from its shutdown RDB: its shard resumes with +CONTINUE, nothing lost', async () => {
    const master = bed.source.nodes[0];
    const admin = master.client();
    try {
      // Redis keeps the replication id and offset in the RDB it saves on shutdown and offers them as replid2.
      await admin.config('SET', 'save', '3600 1');
      const { comparison, resyncs } = await underLoad('source-rdb', () => bed.restartSourceMaster(master));
      expect(comparison.lost, describeComparison(comparison)).toBe(0);
      expect(comparison.others, describeComparison(comparison)).toEqual([]);
      expect(comparison.duplicated, describeComparison(comparison)).toBe(0);
      expect(resyncs.full).toBe(0);
      expect(resyncs.partial).toBeGreaterThanOrEqual(1);
      await admin.config('SET', 'save', '');
    } finally {
      admin.disconnect();
    }
  }, 120_000);

  it('a source master without persistence restarts empty: its shard is copied again in full, nothing the source holds is missing', async () => {
    const master = bed.source.nodes[1];
    const onlyKeptOnTarget = (c: TokenComparison) =>
      c.lost === 0 && c.others.every((difference) => difference.kind === 'missing-in-a');
    const { comparison, resyncs } = await underLoad(
      'source-empty',
      () => bed.restartSourceMaster(master),
      onlyKeptOnTarget,
    );
    expect(resyncs.full).toBeGreaterThanOrEqual(1);
    expect(comparison.lost, describeComparison(comparison)).toBe(0);
    // The keys the source lost stay on the target (a full resync replaces keys, it does not empty the target):
    // the only differences allowed are keys the target has and the source no longer has.
    expect(
      comparison.others.filter((difference) => difference.kind !== 'missing-in-a'),
      describeComparison(comparison),
    ).toEqual([]);
    console.log(
      `source master restarted empty: ${comparison.others.length} keys it lost remain on the target; the ` +
        `${comparison.duplicated} "duplicated" tokens are tokens written before the restart that only the target kept`,
    );
  }, 120_000);
});
