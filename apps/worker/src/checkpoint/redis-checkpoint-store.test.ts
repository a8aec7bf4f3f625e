import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { keys } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { RedisCheckpointStore } from './redis-checkpoint-store.js';

describe('RedisCheckpointStore', () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('saves, loads and clears a checkpoint in one hash', async () => {
    const store = new RedisCheckpointStore(client);
    expect(await store.load('plan1-0')).toBeNull();
    const checkpoint = { replid: 'b'.repeat(40), offset: 987654321012, db: 5, savedAt: 1700000000000 };
    await store.save('plan1-0', checkpoint);
    expect(await store.load('plan1-0')).toEqual(checkpoint);
    expect(await client.hgetall(keys.checkpoint('plan1-0'))).toEqual({
      replid: checkpoint.replid,
      offset: '987654321012',
      db: '5',
      savedAt: '1700000000000',
    });
    await store.clear('plan1-0');
    expect(await store.load('plan1-0')).toBeNull();
    expect(await client.exists(keys.checkpoint('plan1-0'))).toBe(0);
  });

  it('refuses a corrupt hash with the key and the fix in the message', async () => {
    const store = new RedisCheckpointStore(client);
    await client.hset(keys.checkpoint('plan1-1'), { replid: 'nope', offset: '1', db: '0' });
    await expect(store.load('plan1-1')).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: expect.stringMatching(/shardbridge:checkpoint:plan1-1.*DEL/),
    });
    await client.hset(keys.checkpoint('plan1-1'), { replid: 'c'.repeat(40), offset: 'x' });
    await expect(store.load('plan1-1')).rejects.toMatchObject({ message: /bad offset/ });
  });

  it('writes through a fence only while the fence key holds the token', async () => {
    const fence = { key: 'bull:q:plan1-2:lock', token: 'token-a' };
    const store = new RedisCheckpointStore(client, { fence });
    const checkpoint = { replid: 'd'.repeat(40), offset: 10, db: 0, savedAt: 1 };
    await expect(store.save('plan1-2', checkpoint)).rejects.toMatchObject({ code: 'CHECKPOINT_FENCED' });
    await client.set(fence.key, 'token-a');
    await store.save('plan1-2', checkpoint);
    expect(await store.load('plan1-2')).toEqual(checkpoint);
    await client.set(fence.key, 'token-b');
    await expect(store.save('plan1-2', { ...checkpoint, offset: 5 })).rejects.toMatchObject({
      message: /shard plan1-2.*no longer holds/,
    });
    await expect(store.clear('plan1-2')).rejects.toMatchObject({ code: 'CHECKPOINT_FENCED' });
    expect(await store.load('plan1-2')).toEqual(checkpoint);
    await client.set(fence.key, 'token-a');
    await store.clear('plan1-2');
    expect(await store.load('plan1-2')).toBeNull();
  });
});
