import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { keys } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { ShardControl } from './shard-control.js';

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('ShardControl', () => {
  let redis: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('reads the desired state (absent = run) and tells a watcher about a stop once', async () => {
    const control = new ShardControl(redis.url, { pollIntervalMs: 60_000 });
    await control.ready();
    try {
      expect(await control.desiredState('s-0')).toBe('run');
      let stops = 0;
      const unwatch = control.watch('s-0', () => (stops += 1));
      await ShardControl.requestStop(admin, 's-0');
      await until('the stop message', () => stops === 1);
      expect(await control.desiredState('s-0')).toBe('stop');
      await ShardControl.requestStop(admin, 's-0');
      await sleep(200);
      expect(stops).toBe(1);
      unwatch();
      await ShardControl.requestRun(admin, 's-0');
      expect(await control.desiredState('s-0')).toBe('run');
      expect(await admin.get(keys.control('s-0'))).toBe('run');
    } finally {
      await control.close();
    }
  });

  it('sees a stop already requested before watch, and one set without a message by polling', async () => {
    const control = new ShardControl(redis.url, { pollIntervalMs: 200 });
    await control.ready();
    try {
      await ShardControl.requestStop(admin, 's-1');
      let early = 0;
      control.watch('s-1', () => (early += 1));
      await until('the stop read at watch time', () => early === 1);

      let late = 0;
      control.watch('s-2', () => (late += 1));
      await admin.set(keys.control('s-2'), 'stop'); // no PUBLISH: as if the message was lost
      await until('the polled stop', () => late === 1);
    } finally {
      await control.close();
    }
  });
});
