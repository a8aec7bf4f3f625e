import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import {
  assertSameContents,
  startCluster,
  startRedis,
  waitFor,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { ScanSync } from './scan-sync.js';

const logger = pino({ level: 'silent' });

/** Slot ranges a node serves, from its own CLUSTER SLOTS. */
async function slotsOf(node: RedisServer): Promise<Array<[number, number]>> {
  const client = node.client();
  try {
    const ranges = (await client.cluster('SLOTS')) as Array<[number, number, [string, number]]>;
    return ranges.filter((range) => range[2][1] === node.port).map(([first, last]) => [first, last]);
  } finally {
    client.disconnect();
  }
}

async function clusterBurst(client: Cluster, round: number): Promise<void> {
  const r = round;
  await Promise.all([
    client.set(`c:str:${r % 60}`, `v${r}`),
    client.del(`c:str:${(r + 30) % 60}`),
    client.expire(`c:str:${(r + 7) % 60}`, 3600),
    client.lpush(`c:list:${r % 10}`, `l${r}`),
    client.hset(`c:hash:${r % 10}`, `f${r % 5}`, String(r)),
    client.zadd(`c:zset:${r % 10}`, r, `m${r % 8}`),
    client.xadd(`c:stream:${r % 4}`, '*', 'r', String(r)),
  ]);
  // RENAME within one slot (hash tag), as a cluster requires
  await client.set(`{c${r % 16}}:from`, String(r));
  await client.rename(`{c${r % 16}}:from`, `{c${r % 16}}:to`);
}

describe('ScanSync: cluster source (one ScanSync per shard, each scanning and subscribing on its own node)', () => {
  let cluster: RedisCluster;
  let target: RedisServer;
  let source: Cluster;
  let targetClient: Redis;

  beforeAll(async () => {
    [cluster, target] = await Promise.all([
      startCluster({
        masters: 3,
        config: { 'rename-command': ['PSYNC', ''], 'notify-keyspace-events': 'KA' },
      }),
      startRedis(),
    ]);
    source = cluster.client();
    targetClient = target.client();
  });

  afterAll(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  it('every shard copies its node, live changes on every node arrive; equal at the end of a write burst', async () => {
    for (let i = 0; i < 300; i++) await source.set(`seed:${i}`, `s${i}`);
    const masters = await cluster.masters();
    const syncs = await Promise.all(
      masters.map(
        async (node, index) =>
          new ScanSync({
            shardId: `cluster-scan-${index}`,
            source: { host: node.host, port: node.port },
            target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
            logger,
            rttIntervalMs: 0,
            slots: await slotsOf(node),
          }),
      ),
    );
    const runs = syncs.map((sync) => sync.run());
    let round = 0;
    const live = () => syncs.every((sync) => sync.progress.phase === 'incremental');
    while (!live()) {
      expect(syncs.map((sync) => sync.progress.phase)).not.toContain('failed');
      await clusterBurst(source, round++);
    }
    for (let i = 0; i < 40; i++) await clusterBurst(source, round++);
    await waitFor(
      'the target to equal the cluster',
      () =>
        assertSameContents(source, targetClient).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    await assertSameContents(source, targetClient);
    for (const sync of syncs) {
      expect(sync.progress.scan!.keysScanned).toBeGreaterThan(0);
      expect(sync.progress.scan!.keysReread).toBeGreaterThan(0);
    }
    await Promise.all(syncs.map((sync) => sync.stop()));
    await Promise.all(runs);
  });
});
