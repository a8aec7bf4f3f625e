import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { assertSameContents, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from './checkpoint/memory-checkpoint-store.js';
import { ShardSync } from './shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

// Issue 15, item 4's neighbour: a target that goes away under a streaming shard and takes a few seconds to come
// back (a restart, a failover) is a lost link like any other: reconnect with backoff, resume, lose nothing.

describe('ShardSync: the target restarts under a streaming shard', () => {
  let source: RedisServer;
  let target: RedisServer;

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis(),
      startRedis({ config: { appendonly: 'yes', appendfsync: 'always' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('reconnects with backoff while the target is down, then resumes with +CONTINUE and equal data', async () => {
    const sourceClient = source.client();
    for (let i = 0; i < 100; i++) await sourceClient.set(`k:${i}`, String(i));
    const checkpoints = new MemoryCheckpointStore();
    const sync = new ShardSync({
      shardId: 'target-restart-0',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints,
      logger,
      rttIntervalMs: 0,
      reconnectBaseDelayMs: 200,
      checkpointIntervalMs: 100,
    });
    const running = sync.run();
    running.catch(() => undefined);
    const streaming = () => {
      const { phase, lastError } = sync.progress;
      if (phase === 'failed') throw new Error(`the shard failed: ${lastError?.code} ${lastError?.message}`);
      return phase === 'incremental';
    };
    try {
      await waitFor('the shard streaming', streaming, 30_000);
      // A resume point exists before the target goes: the reconnect then resumes instead of copying again.
      await waitFor(
        'a checkpoint',
        async () => (await checkpoints.load('target-restart-0')) !== null,
        30_000,
      );
      await target.kill('SIGKILL');
      for (let i = 0; i < 50; i++) await sourceClient.set(`down:${i}`, String(i));
      // At least one reconnect finds the target down (TARGET_CONNECT_FAILED) before it is back.
      await waitFor('a reconnect that found the target down', () => sync.progress.reconnects >= 2, 30_000);
      expect(sync.progress.phase).not.toBe('failed');
      await target.restart();
      await waitFor('the shard streaming again', streaming, 60_000);
      await sourceClient.set('live', 'after the restart');
      const targetClient = target.client();
      await waitFor(
        'the live write on the target',
        async () => (await targetClient.get('live')) !== null,
        30_000,
      );
      await assertSameContents(sourceClient, targetClient);
      expect(Number((await source.info('stats')).sync_partial_ok)).toBeGreaterThanOrEqual(1);
    } finally {
      await sync.stop();
      await running;
    }
    expect(sync.progress.phase).toBe('stopped');
  });
});
