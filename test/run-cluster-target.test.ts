import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  startCluster,
  startRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { runCli, startCli } from './support/cli-process.js';
import { scratchDir, waitUntilCaughtUp, writePlan } from './support/sync-harness.js';

describe('shardbridge run: standalone source into a cluster target', () => {
  let source: RedisServer;
  let cluster: RedisCluster;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, cluster, scratch] = await Promise.all([
      startRedis({ role: 'source' }),
      startCluster({ masters: 3, role: 'target' }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), cluster?.stop(), scratch?.remove()]);
  });

  it('routes every key to its slot owner, full sync and live stream', async () => {
    const client = source.client();
    const pipeline = client.pipeline();
    for (let i = 0; i < 3000; i++) {
      pipeline.set(`key:${i}`, `v${i}`);
      if (i % 10 === 0) pipeline.rpush(`list:${i}`, 'a', 'b', `${i}`);
      if (i % 10 === 1) pipeline.hset(`hash:${i}`, 'f', `${i}`);
      if (i % 100 === 2) pipeline.pexpireat(`key:${i}`, Date.UTC(2100, 0, 1));
    }
    await pipeline.exec();
    const [seed] = cluster.nodes;
    const plan = await writePlan(scratch.path, source, { host: seed.host, port: seed.port, type: 'cluster' });
    // All-in-one: coordinator, workers and an embedded queue Redis in the one process.
    const cli = startCli([
      'run',
      plan,
      '--data-dir',
      join(scratch.path, 'data'),
      '--progress-interval',
      '200',
    ]);
    try {
      await cli.waitFor(/incremental/);
      for (let i = 0; i < 500; i++) {
        await client.incr(`counter:${i % 50}`);
        await client.rpush(`list:${(i % 30) * 10}`, `live${i}`);
        if (i % 7 === 0) await client.del(`key:${i}`);
      }
      await client.call(
        'FUNCTION',
        'LOAD',
        "#!lua name=cl\nredis.register_function('cl_f', function() return 1 end)",
      );
      await waitUntilCaughtUp(cli, source);
      await assertSameContents(client, cluster.client());
      // FUNCTION LOAD is keyless: every master must have it.
      for (const master of await cluster.masters()) {
        expect(await master.client().call('FUNCTION', 'LIST', 'LIBRARYNAME', 'cl')).toHaveLength(1);
      }
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 120_000);

  it('refuses a source db other than 0, naming it', async () => {
    const other = await startRedis({ role: 'source' });
    try {
      const client = other.client();
      await client.select(3);
      await client.set('in-db-3', 'x');
      const [seed] = cluster.nodes;
      const dir = join(scratch.path, 'db3');
      const plan = await writePlan(dir, other, { host: seed.host, port: seed.port, type: 'cluster' });
      const result = await runCli(['run', '--direct', plan, '--checkpoint-dir', dir], {}, 60_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/error: .*db 3/);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
