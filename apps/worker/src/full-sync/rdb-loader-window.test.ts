import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { contentsOf, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.js';
import { ShardSync } from '../shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

describe('full sync through a tiny target window (the parser pauses and resumes with the window)', () => {
  let source: RedisServer;
  let target: RedisServer;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const client = source.client();
    // Big values streamed in parts (threshold 256 KiB) with small keys around them, all incompressible.
    for (let i = 0; i < 8; i++) {
      await client.rpush('list:big', ...Array.from({ length: 512 }, () => randomBytes(512)));
    }
    await client.sadd('set:big', ...Array.from({ length: 4096 }, () => randomBytes(200)));
    await client.set('string:big', randomBytes(1536 * 1024));
    for (let i = 0; i < 200; i++) await client.set(`small:${i}`, randomBytes(64));
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('copies every key exactly with a 64 KiB window and a 256 KiB big-key threshold', async () => {
    const sync = new ShardSync({
      shardId: 'window-0',
      source: { host: source.host, port: source.port },
      target: {
        type: 'standalone',
        seeds: [{ host: target.host, port: target.port }],
        maxInFlightBytes: 64 * 1024,
      },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      bigKeyThreshold: 256 * 1024,
    });
    const running = sync.run();
    try {
      const goal = Number((await source.info('replication')).master_repl_offset);
      await waitFor('the full sync to be confirmed', () => sync.progress.acknowledgedOffset >= goal, 60_000);
      expect(sync.progress.keysWritten).toBe(203);
      expect(await contentsOf(target.client())).toEqual(await contentsOf(source.client()));
    } finally {
      await sync.stop();
      await running;
    }
  });
});
