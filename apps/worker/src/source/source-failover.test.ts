import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { NatMapper, parseClusterShards } from '@shardbridge/plan';
import { startCluster, startRedis, waitFor, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.js';
import { ShardSync } from '../shard-sync.js';
import { SourceLocator } from './source-locator.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });
const TAG = '{failover}';

/** Writes `key:<from..to-1>` through the cluster client, retrying each across the failover's brief refusals. */
async function writeKeys(client: Cluster, from: number, to: number): Promise<void> {
  for (let index = from; index < to; index++) {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.set(`${TAG}:key:${index}`, `value-${index}`);
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

describe.each([
  { variant: 'plain addresses', announceHostnames: false },
  { variant: 'announced hostnames behind a natMap', announceHostnames: true },
])('ShardSync following a source failover ($variant)', ({ announceHostnames }) => {
  let cluster: RedisCluster;
  let target: RedisServer;
  let writer: Cluster;
  let targetClient: Redis;

  beforeAll(async () => {
    [cluster, target] = await Promise.all([
      startCluster({ masters: 3, replicasPerMaster: 1, announceHostnames }),
      startRedis(),
    ]);
    writer = cluster.client();
    targetClient = target.client();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  it('resumes on the promoted replica with +CONTINUE, reports the new master, and the target matches', async () => {
    const master = await cluster.nodeForKey(TAG);
    const nodeId = await cluster.nodeId(master);
    const shards = parseClusterShards(await master.client().call('CLUSTER', 'SHARDS'));
    const slots = shards.find((shard) => shard.nodeId === nodeId)!.slots;
    const natMap = Object.fromEntries(
      Object.entries(cluster.natMap()).map(([announced, { host, port }]) => [announced, `${host}:${port}`]),
    );
    const otherSeed = cluster.nodes.find((node) => node !== master)!;
    const sync = new ShardSync({
      shardId: 'failover-0',
      source: {
        host: master.host,
        port: master.port,
        label: `shard failover-0 (${cluster.announced(master)})`,
      },
      sourceNode: { nodeId, announced: cluster.announced(master) },
      locator: new SourceLocator({
        slots,
        seeds: [{ host: otherSeed.host, port: otherSeed.port }],
        natMapper: new NatMapper(natMap),
        link: { tls: false, timeoutMs: 2000 },
      }),
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      progressIntervalMs: 100,
      reconnectBaseDelayMs: 200,
      rttIntervalMs: 200,
    });
    const running = sync.run();
    try {
      await writeKeys(writer, 0, 200);
      await waitFor(
        'the first keys on the target',
        async () => (await targetClient.dbsize()) === 200,
        30_000,
      );
      await waitFor('an RTT sample', () => sync.progress.rttMs !== null, 10_000);
      const before = sync.progress;
      expect(before.phase).toBe('incremental');
      expect(before.fullSyncs).toBe(1);
      expect(before.sourceNode).toEqual({
        nodeId,
        announced: cluster.announced(master),
        reachable: `${master.host}:${master.port}`,
      });
      expect(before.rttMs).toBeGreaterThan(0);
      expect(before.lastDisconnect).toBeNull();

      const promoted = await cluster.failover(master);
      const promotedId = await cluster.nodeId(promoted);
      await writeKeys(writer, 200, 400);
      await waitFor(
        'the shard to follow the failover',
        () => sync.progress.sourceNode?.nodeId === promotedId,
        30_000,
      );
      await waitFor('every key on the target', async () => (await targetClient.dbsize()) === 400, 30_000);

      const after = sync.progress;
      expect(after.phase).toBe('incremental');
      expect(after.fullSyncs).toBe(1);
      expect(after.partialSyncs).toBeGreaterThanOrEqual(before.partialSyncs + 1);
      expect(after.sourceFailovers).toBe(1);
      expect(after.reconnects).toBeGreaterThanOrEqual(1);
      expect(after.lastDisconnect).toMatchObject({ code: expect.any(String), at: expect.any(Number) });
      expect(after.sourceNode).toEqual({
        nodeId: promotedId,
        announced: cluster.announced(promoted),
        reachable: `${promoted.host}:${promoted.port}`,
      });
      // The promoted replica served no full sync: we (and the demoted master) continued with +CONTINUE.
      const stats = await promoted.info('stats');
      expect(Number(stats.sync_full)).toBe(0);
      expect(Number(stats.sync_partial_ok)).toBeGreaterThanOrEqual(1);
      expect(after.replid).toBe((await promoted.info('replication')).master_replid);

      const names = Array.from({ length: 400 }, (_, index) => `${TAG}:key:${index}`);
      expect(await targetClient.mget(names)).toEqual(await writer.mget(names));
    } finally {
      await sync.stop();
      await running;
    }
  }, 120_000);
});

describe('ShardSync with readFrom replica', () => {
  let cluster: RedisCluster;
  let target: RedisServer;
  let writer: Cluster;
  let targetClient: Redis;

  beforeAll(async () => {
    [cluster, target] = await Promise.all([startCluster({ masters: 3, replicasPerMaster: 1 }), startRedis()]);
    writer = cluster.client();
    targetClient = target.client();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  it('replicates from the replica, and from the demoted master once that replica is promoted', async () => {
    const master = await cluster.nodeForKey(TAG);
    const nodeId = await cluster.nodeId(master);
    const [replica] = await cluster.replicas(master);
    const replicaId = await cluster.nodeId(replica);
    const shards = parseClusterShards(await master.client().call('CLUSTER', 'SHARDS'));
    const slots = shards.find((shard) => shard.nodeId === nodeId)!.slots;
    const sync = new ShardSync({
      shardId: 'replica-0',
      // as planned: the master; the locator moves the shard to its replica before the first link
      source: { host: master.host, port: master.port },
      sourceNode: { nodeId, announced: cluster.announced(master) },
      locator: new SourceLocator({
        slots,
        seeds: [],
        natMapper: new NatMapper(),
        link: { tls: false, timeoutMs: 2000 },
        readFrom: 'replica',
      }),
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      progressIntervalMs: 100,
      reconnectBaseDelayMs: 200,
      rttIntervalMs: 0,
    });
    const running = sync.run();
    try {
      await writeKeys(writer, 0, 100);
      await waitFor(
        'the first keys on the target',
        async () => (await targetClient.dbsize()) === 100,
        30_000,
      );
      expect(sync.progress.sourceNode?.nodeId).toBe(replicaId);
      expect(sync.progress.sourceFailovers).toBe(0);
      expect(Number((await replica.info('stats')).sync_full)).toBe(1);
      expect(Number((await master.info('stats')).sync_full)).toBe(1); // the replica's own sync only

      await cluster.failover(master); // the replica we read from becomes master: move to the demoted master
      await writeKeys(writer, 100, 200);
      await waitFor(
        'the shard to move to the demoted master',
        () => sync.progress.sourceNode?.nodeId === nodeId,
        30_000,
      );
      await waitFor('every key on the target', async () => (await targetClient.dbsize()) === 200, 30_000);
      const progress = sync.progress;
      expect(progress.fullSyncs).toBe(1);
      expect(progress.partialSyncs).toBeGreaterThanOrEqual(1);
      expect(progress.sourceFailovers).toBe(1);
      const names = Array.from({ length: 200 }, (_, index) => `${TAG}:key:${index}`);
      expect(await targetClient.mget(names)).toEqual(await writer.mget(names));
    } finally {
      await sync.stop();
      await running;
    }
  }, 120_000);
});

describe('ShardSync following a source master killed with SIGKILL', () => {
  let cluster: RedisCluster;
  let target: RedisServer;
  let writer: Cluster;
  let targetClient: Redis;

  beforeAll(async () => {
    [cluster, target] = await Promise.all([startCluster({ masters: 3, replicasPerMaster: 1 }), startRedis()]);
    writer = cluster.client();
    targetClient = target.client();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  it('resumes with +CONTINUE on the replica the cluster promotes', async () => {
    const master = await cluster.nodeForKey(TAG);
    const nodeId = await cluster.nodeId(master);
    const [replica] = await cluster.replicas(master);
    const shards = parseClusterShards(await master.client().call('CLUSTER', 'SHARDS'));
    const slots = shards.find((shard) => shard.nodeId === nodeId)!.slots;
    const seeds = cluster.nodes.filter((node) => node !== master).map(({ host, port }) => ({ host, port }));
    const sync = new ShardSync({
      shardId: 'killed-0',
      source: { host: master.host, port: master.port },
      sourceNode: { nodeId, announced: cluster.announced(master) },
      locator: new SourceLocator({
        slots,
        seeds,
        natMapper: new NatMapper(),
        link: { tls: false, timeoutMs: 1000 },
      }),
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      progressIntervalMs: 100,
      reconnectBaseDelayMs: 200,
      maxReconnectAttempts: 30,
      rttIntervalMs: 200,
    });
    const running = sync.run();
    try {
      await writeKeys(writer, 0, 100);
      await waitFor(
        'the first keys on the target',
        async () => (await targetClient.dbsize()) === 100,
        30_000,
      );
      // Asynchronous replication: only what the replica has can be continued there without a full sync.
      const masterOffset = Number((await master.info('replication')).master_repl_offset);
      await waitFor(
        'the replica to catch up',
        async () => Number((await replica.info('replication')).master_repl_offset) >= masterOffset,
        10_000,
      );
      await master.kill('SIGKILL');
      const promoted = await cluster.waitForFailover(master);
      await writeKeys(writer, 100, 200);
      await waitFor(
        'the shard to follow the failover',
        () => sync.progress.phase === 'incremental' && sync.progress.sourceFailovers === 1,
        30_000,
      );
      await waitFor('every key on the target', async () => (await targetClient.dbsize()) === 200, 30_000);
      const progress = sync.progress;
      expect(progress.sourceNode?.reachable).toBe(`${promoted.host}:${promoted.port}`);
      expect(progress.fullSyncs).toBe(1);
      expect(progress.partialSyncs).toBeGreaterThanOrEqual(1);
      expect(progress.lastDisconnect?.code).toBe('REPL_CONNECTION_CLOSED');
      expect(Number((await promoted.info('stats')).sync_full)).toBe(0);
      const names = Array.from({ length: 200 }, (_, index) => `${TAG}:key:${index}`);
      expect(await targetClient.mget(names)).toEqual(await writer.mget(names));
    } finally {
      await sync.stop();
      await running;
    }
  }, 120_000);
});
