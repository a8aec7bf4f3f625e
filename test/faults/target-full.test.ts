import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type ShardView } from '../control-plane/support/api.js';
import { loadClusterData } from '../control-plane/support/cluster-data.js';
import { FaultBed, resyncsSince } from './support/fault-bed.js';
import { describeComparison } from './support/token-check.js';
import { startTokenWrites, TOKEN_KEY_PREFIX } from './support/token-writes.js';

// Issue 9: the target fills up (maxmemory + noeviction) under a continuous write load. Each shard must fail with
// one clear error, its checkpoint must not claim a command the target refused (else that command's token would
// be lost after the retry), and once maxmemory is raised a
// retry must resume from that checkpoint with +CONTINUE and leave nothing lost.

/** Room the target gets above what it holds once every shard streams. */
const HEADROOM_BYTES = 6 * 1024 * 1024;
const BIG_VALUE_BYTES = 50_000;

const streaming = (shards: ShardView[]) => shards.every((shard) => shard.phase === 'incremental');
const failedOom = (shard: ShardView) => shard.jobState === 'failed' && shard.lastError?.code === 'TARGET_OOM';

describe('faults: the target runs out of memory', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await FaultBed.start({ target: { 'maxmemory-policy': 'noeviction' } });
    await loadClusterData(bed.router, 30);
    await bed.submit('faults-target-full');
    await bed.waitForShards('every shard streaming', streaming);
  });

  afterAll(() => bed?.stop());

  it('every shard fails with TARGET_OOM, confirms nothing refused, and resumes with +CONTINUE after maxmemory is raised', async () => {
    const admin = bed.target.client();
    try {
      const used = Number((await bed.target.info('memory')).used_memory);
      await admin.config('SET', 'maxmemory', String(used + HEADROOM_BYTES));

      const writes = startTokenWrites(bed.router, { name: 'oom' });
      let bigValues = 0;
      let filling = true;
      const fill = (async () => {
        // Enough to overflow the headroom several times over, far below the source's 64 MB backlog per master.
        while (filling && bigValues < 400) {
          const key = `big:${bigValues++}`;
          await bed.router.client(key).set(key, randomBytes(BIG_VALUE_BYTES));
        }
      })();
      let failed: ShardView[];
      try {
        failed = await bed.waitForShards('every shard failed with TARGET_OOM', (shards) =>
          shards.every(failedOom),
        );
      } finally {
        filling = false;
        await fill;
      }
      const written = await writes.stop();
      for (const shard of failed) {
        expect(shard.lastError!.message).toMatch(/out of memory \(maxmemory reached\): raise maxmemory/);
        expect(shard.lastError!.message).toContain(shard.id);
      }
      console.log(`target full: ${failed[0].lastError!.message}`);

      // The tokens the target held when the shards failed, for the output. Whether the checkpoint claimed a
      // refused command shows after the retry: that command's token would be lost for good.
      let behind = 0;
      for (const key of await tokenLists(bed)) {
        const [source, target] = await Promise.all([bed.router.client(key).llen(key), admin.llen(key)]);
        behind += source - target;
      }

      await admin.config('SET', 'maxmemory', '0');
      const before = await bed.resyncCounters();
      for (const shard of failed) {
        const retried = await call(bed.coordinator.url, `/v1/plans/${bed.planId}/shards/${shard.id}/retry`, {
          method: 'POST',
        });
        expect(retried.status, retried.text).toBeLessThan(300);
      }
      await bed.waitForShards('every retried shard streaming', streaming);
      const comparison = await bed.converge('oom');
      const resyncs = resyncsSince(before, await bed.resyncCounters());
      console.log(
        `target full: ${written.acknowledged} write transactions and ${bigValues} values of ${BIG_VALUE_BYTES} B; ` +
          `${failed.length} shards failed with TARGET_OOM, ${behind} tokens not on the target then; after ` +
          `the retry ${resyncs.partial} partial / ${resyncs.full} full resyncs; ${describeComparison(comparison)}`,
      );
      expect(resyncs.full).toBe(0);
      expect(resyncs.partial).toBeGreaterThanOrEqual(failed.length);
      expect(comparison.lost, describeComparison(comparison)).toBe(0);
      // exactlyOnce: a batch with a refused command is discarded whole (EXECABORT), and what the target did apply
      // is recorded by its marker, so the retry applies nothing twice.
      expect(comparison.duplicated, describeComparison(comparison)).toBe(0);
      expect(comparison.others, describeComparison(comparison)).toEqual([]);
    } finally {
      admin.disconnect();
    }
  }, 180_000);
});

/** The source's token lists of the `oom` load. */
async function tokenLists(bed: FaultBed): Promise<string[]> {
  const keys = await Promise.all(
    bed.router.masters().map(async (node) => {
      const client = node.client();
      try {
        return await client.keys(`${TOKEN_KEY_PREFIX}*:oom:list`);
      } finally {
        client.disconnect();
      }
    }),
  );
  return keys.flat();
}
