import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  assertSameContents,
  startFaultProxy,
  startRedis,
  waitFor,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { MemoryCheckpointStore } from './checkpoint/memory-checkpoint-store.js';
import { ShardSync } from './shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

/**
 * A drop schedule for the fault proxy: with the drop rate at 1, the proxy asks `random()` once per forwarded chunk
 * and closes the connection pair when the answer is below 1. The handshake is strictly one request, one reply, so
 * chunk numbers are steps: connection 1 dies on its first chunk (PING), connection 2 on its seventh (PSYNC, after
 * PING/+PONG, REPLCONF listening-port/+OK, REPLCONF capa/+OK), and everything after passes.
 */
function dropChunks(...indexes: number[]): () => number {
  let call = 0;
  return () => (indexes.includes(call++) ? 0 : 1);
}

describe('ShardSync: a first link lost during the handshake', () => {
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), proxy?.close()]);
  });

  it('reconnects with backoff (closed at PING, then at PSYNC): the shard streams and the target equals the source', async () => {
    const sourceClient = source.client();
    for (let i = 0; i < 200; i++) await sourceClient.set(`k:${i}`, String(i));
    proxy = await startFaultProxy(source, { random: dropChunks(0, 7) });
    proxy.setDropRate(1);
    const sync = new ShardSync({
      shardId: 'handshake-0',
      source: { host: proxy.host, port: proxy.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      rttIntervalMs: 0,
      reconnectBaseDelayMs: 50,
    });
    const running = sync.run();
    running.catch(() => undefined);
    try {
      await waitFor(
        'the shard streaming',
        () => {
          const { phase, lastError } = sync.progress;
          if (phase === 'failed') throw new Error(`the shard failed: ${lastError?.message}`);
          return phase === 'incremental';
        },
        30_000,
      );
      expect(proxy.stats.dropped).toBe(2);
      expect(sync.progress.reconnects).toBe(2);
      expect(sync.progress.lastError?.code).toBe('REPL_CONNECTION_CLOSED');
      await sourceClient.set('live', 'after the drops');
      const targetClient = target.client();
      await waitFor('the live write on the target', async () => (await targetClient.get('live')) !== null);
      await assertSameContents(sourceClient, targetClient);
    } finally {
      await sync.stop();
      await running;
    }
    expect(sync.progress.phase).toBe('stopped');
  });

  it('a wrong password still fails the first link at once, without a retry', async () => {
    const locked = await startRedis({ password: 'right' });
    try {
      const sync = new ShardSync({
        shardId: 'handshake-1',
        source: { host: locked.host, port: locked.port, password: 'wrong' },
        target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
        checkpoints: new MemoryCheckpointStore(),
        logger,
        rttIntervalMs: 0,
        reconnectBaseDelayMs: 50,
      });
      await expect(sync.run()).rejects.toMatchObject({ code: 'REPL_AUTH_FAILED' });
      expect(sync.progress.reconnects).toBe(0);
    } finally {
      await locked.stop();
    }
  });
});
