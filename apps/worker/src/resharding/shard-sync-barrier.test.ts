import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.js';
import { ShardSync } from '../shard-sync.js';
import type { BarrierOutcome, MigrationBarrier } from './migration-barrier.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

/** A barrier the test opens by hand: stands in for the other shards' progress (tested with Redis on its own). */
class HeldBarrier implements MigrationBarrier {
  passes = 0;
  private open: (() => void) | null = null;
  pass(): Promise<BarrierOutcome> {
    this.passes += 1;
    return new Promise((resolve) => {
      this.open = () => resolve({ reached: true, waitedMs: 0, lagging: [], unknown: [] });
    });
  }
  release(): void {
    this.open?.();
  }
}

describe('ShardSync with a migration barrier (real source and target)', () => {
  let source: RedisServer;
  let target: RedisServer;
  let sourceClient: Redis;
  let targetClient: Redis;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    sourceClient = source.client();
    targetClient = target.client();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('applies a RESTORE-ASKING and what follows only once the barrier passes, as RESTORE REPLACE', async () => {
    const barrier = new HeldBarrier();
    const checkpoints = new MemoryCheckpointStore();
    const sync = new ShardSync({
      shardId: 'gate-0',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints,
      logger,
      migrationBarrier: barrier,
      // Long enough that only a trailing save can checkpoint the last acknowledgement in time.
      checkpointIntervalMs: 1500,
    });
    const running = sync.run();
    try {
      await sourceClient.set('moved', 'stale');
      await waitFor(
        'the stale value on the target',
        async () => (await targetClient.get('moved')) === 'stale',
      );
      await sourceClient.set('scratch', 'migrated');
      const payload = await sourceClient.dumpBuffer('scratch');
      // What a master propagates for a key it imports by MIGRATE (the source is no cluster: it runs it as RESTORE).
      await sourceClient.call('RESTORE-ASKING', 'moved', '0', payload, 'REPLACE');
      await sourceClient.set('after', 'behind the barrier');
      await waitFor('the barrier to be asked', () => barrier.passes === 1);
      await waitFor('the stream to be read past the held commands', async () => {
        const offset = Number((await source.info('replication')).master_repl_offset);
        return sync.progress.sourceOffset >= offset;
      });
      expect(await targetClient.get('moved')).toBe('stale');
      expect(await targetClient.exists('after')).toBe(0);

      barrier.release();
      await waitFor(
        'the held commands on the target',
        async () => (await targetClient.get('after')) !== null,
      );
      expect(await targetClient.get('moved')).toBe('migrated');
      expect(sync.progress.migrationBarriers).toBe(1);
      expect(sync.progress.migrationBarrierTimeouts).toBe(0);

      // Quiet from here on: the trailing save checkpoints the last acknowledged offset without further traffic.
      const goal = Number((await source.info('replication')).master_repl_offset);
      await waitFor(
        'the target to confirm the source offset',
        () => sync.progress.acknowledgedOffset >= goal,
      );
      await waitFor(
        'the trailing checkpoint',
        () => (checkpoints.saved.get('gate-0')?.offset ?? -1) === sync.progress.acknowledgedOffset,
        5_000,
      );
    } finally {
      await sync.stop();
      await running;
    }
  });
});
