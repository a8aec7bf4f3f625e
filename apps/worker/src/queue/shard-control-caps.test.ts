import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { keys, type ShardCaps } from '@shardbridge/plan';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { ShardControl } from './shard-control.js';

// The caps a worker applies: the plan's divided by its shard count, a shard's own overriding it, and a change
// (key + message on the control channel, as PUT /v1/plans/:id/caps writes it) seen by a running watcher.
describe('ShardControl: rate caps (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = redis.client();
    await admin.hset(keys.plan('p'), 'shards', JSON.stringify([{ id: 'p-0' }, { id: 'p-1' }]));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const setCaps = async (caps: unknown) => {
    await admin
      .multi()
      .set(keys.caps('p'), JSON.stringify(caps))
      .publish(keys.controlChannel(), 'p-0')
      .exec();
  };

  it('divides a plan cap among the shards, lets a shard override it, and hands a change to the watcher', async () => {
    const control = new ShardControl(redis.url, { pollIntervalMs: 60_000 });
    await control.ready();
    try {
      expect(await control.capsOf('p', 'p-0')).toEqual({ opsPerSecond: null, bytesPerSecond: null });
      await setCaps({ opsPerSecond: 1000, bytesPerSecond: 5000, perShard: { 'p-1': { opsPerSecond: 10 } } });
      expect(await control.capsOf('p', 'p-0')).toEqual({ opsPerSecond: 500, bytesPerSecond: 2500 });
      expect(await control.capsOf('p', 'p-1')).toEqual({ opsPerSecond: 10, bytesPerSecond: 2500 });

      const seen: ShardCaps[] = [];
      const unwatch = control.watchCaps('p', 'p-0', (caps) => seen.push(caps));
      await waitFor('the caps at watch time', () => seen.length === 1);
      expect(seen[0]).toEqual({ opsPerSecond: 500, bytesPerSecond: 2500 });
      await setCaps({ opsPerSecond: 200 });
      await waitFor('the changed caps', () => seen.length === 2);
      expect(seen[1]).toEqual({ opsPerSecond: 100, bytesPerSecond: null });
      unwatch();
    } finally {
      await control.close();
    }
  });

  it('reads the caps again on its poll when a message was missed', async () => {
    const control = new ShardControl(redis.url, { pollIntervalMs: 100 });
    await control.ready();
    try {
      await setCaps({});
      const seen: ShardCaps[] = [];
      const unwatch = control.watchCaps('p', 'p-0', (caps) => seen.push(caps));
      await waitFor('the caps at watch time', () => seen.length === 1);
      await admin.set(keys.caps('p'), JSON.stringify({ bytesPerSecond: 4000 })); // no message
      await waitFor('the polled caps', () => seen.length === 2);
      expect(seen[1]).toEqual({ opsPerSecond: null, bytesPerSecond: 2000 });
      unwatch();
    } finally {
      await control.close();
    }
  });
});
