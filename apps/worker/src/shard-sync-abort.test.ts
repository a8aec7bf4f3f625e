import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from './checkpoint/memory-checkpoint-store.js';
import { appliedMarkerKey } from './exactly-once/applied-marker.js';
import { ShardSync } from './shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

describe('ShardSync.abort (the shard became another worker’s)', () => {
  let source: RedisServer;
  let target: RedisServer;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('stops writing at once: nothing more reaches the target and no checkpoint is saved on the way out', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const sync = new ShardSync({
      shardId: 'abort-0',
      source: { host: source.host, port: source.port },
      target: {
        type: 'standalone',
        seeds: [{ host: target.host, port: target.port }],
        appliedMarkerKey: appliedMarkerKey('abort-0'),
      },
      checkpoints,
      logger,
      checkpointIntervalMs: 60_000,
    });
    const running = sync.run();
    const sourceClient = source.client();
    const targetClient = target.client();
    await sourceClient.set('before', '1');
    await waitFor('the first write on the target', async () => (await targetClient.get('before')) === '1');
    const savesBefore = checkpoints.saves;

    await sync.abort();
    await running;
    expect(sync.progress.phase).toBe('stopped');
    expect(checkpoints.saves).toBe(savesBefore);
    const marker = await targetClient.get(appliedMarkerKey('abort-0'));
    for (let i = 0; i < 100; i++) await sourceClient.set(`after:${i}`, String(i));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await targetClient.exists('after:0', 'after:99')).toBe(0);
    expect(await targetClient.get(appliedMarkerKey('abort-0'))).toBe(marker);
  });
});
