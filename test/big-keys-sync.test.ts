import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, startRedis, type RedisServer } from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { scratchDir, waitUntilCaughtUp } from './support/sync-harness.js';

/** Keys over this many RDB bytes are written in parts (the default is 64 MiB; lowered to keep the test small). */
const THRESHOLD = 1024 * 1024;

describe('big keys: written in parts into a scratch key, then RENAMEd over the real key', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([startRedis(), startRedis(), scratchDir()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('copies a 12 MB list, a 6 MB string and 2 MB set/zset/hash exactly, replacing what the target held', async () => {
    const client = source.client();
    const element = () => randomBytes(48).toString('hex');
    for (let batch = 0; batch < 120; batch++) {
      await client.rpush('big:list', ...Array.from({ length: 1000 }, element));
    }
    await client.pexpireat('big:list', Date.now() + 3_600_000);
    await client.set('big:string', randomBytes(6 * 1024 * 1024));
    for (let batch = 0; batch < 20; batch++) {
      await client.sadd('big:set', ...Array.from({ length: 1000 }, element));
      await client.zadd(
        'big:zset',
        ...Array.from({ length: 1000 }, (_, i) => [batch * 1000 + i / 3, element()]).flat(),
      );
      await client.hset(
        'big:hash',
        ...Array.from({ length: 1000 }, (_, i) => [`f${batch}-${i}`, element()]).flat(),
      );
    }
    await client.set('small', 'x');
    // A previous attempt left parts of the big list on the target: the sync replaces it, never appends.
    await target.client().rpush('big:list', 'stale-1', 'stale-2');

    const plan = join(scratch.path, 'big.plan.json');
    await writeFile(
      plan,
      JSON.stringify({
        name: 'big',
        source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`], bigKeyThreshold: THRESHOLD },
      }),
    );
    const cli = startCli([
      'run',
      '--direct',
      plan,
      '--checkpoint-dir',
      join(scratch.path, 'cp'),
      '--progress-interval',
      '200',
    ]);
    try {
      await cli.waitFor(/incremental/, 120_000);
      await client.rpush('big:list', 'after-the-sync');
      await waitUntilCaughtUp(cli, source);
      await assertSameContents(client, target.client());
      const stats = await target.info('commandstats');
      expect(stats.cmdstat_append).toBeDefined();
      expect(Number(/calls=(\d+)/.exec(stats.cmdstat_rename ?? '')?.[1])).toBe(5);
      expect(Number(/calls=(\d+)/.exec(stats.cmdstat_restore ?? '')?.[1])).toBe(1);
      expect(await target.client().keys('__shardbridge_tmp*')).toEqual([]);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 240_000);
});
