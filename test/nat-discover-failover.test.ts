import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import { pino } from 'pino';
import { SHARD_QUEUE, type ShardJobData } from '@shardbridge/plan';
import { startCoordinator, type RunningCoordinator } from '@shardbridge/coordinator';
import { MemoryCheckpointStore, ShardSync, syncOptionsFromJob } from '@shardbridge/worker';
import { startCluster, startRedis, waitFor, type RedisCluster, type RedisServer } from '@shardbridge/testkit';

const logger = pino({ level: 'silent' });
const TAG = '{natdiscover-failover}';

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

/**
 * The plan maps the NAT-announcing source only by natDiscover; the job the coordinator queues carries no
 * natDiscover, only the natMap it built. A shard sync made from that job alone (as a worker makes it) must follow
 * a failover to the promoted replica, whose announced name resolves nowhere.
 */
describe('natDiscover: a worker follows a failover to a replica mapped only by the coordinator', () => {
  let queueRedis: RedisServer;
  let cluster: RedisCluster;
  let target: RedisServer;
  let coordinator: RunningCoordinator;
  let queue: Queue<ShardJobData>;

  beforeAll(async () => {
    [queueRedis, cluster, target] = await Promise.all([
      startRedis(),
      startCluster({
        masters: 3,
        replicasPerMaster: 1,
        announceHostnames: true,
        config: { 'repl-backlog-size': '64mb' },
      }),
      startRedis(),
    ]);
    coordinator = await startCoordinator({
      port: 0,
      queue: { host: queueRedis.host, port: queueRedis.port },
      logger,
      connectTimeoutMs: 2_000,
    });
    queue = new Queue<ShardJobData>(SHARD_QUEUE, {
      connection: { host: queueRedis.host, port: queueRedis.port },
    });
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
    await coordinator?.close();
    await Promise.all([queueRedis?.stop(), cluster?.stop(), target?.stop()]);
  });

  it('resumes on the promoted replica with +CONTINUE, dialled at the address natDiscover found', async () => {
    const response = await fetch(`${coordinator.url}/v1/plans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'natdiscover-failover',
        source: {
          type: 'cluster',
          seeds: [`127.0.0.1:${cluster.nodes[0].port}`],
          natDiscover: cluster.nodes.map((node) => `127.0.0.1:${node.port}`),
        },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      }),
    });
    const created = (await response.json()) as { shards: Array<{ jobId: string }> };
    expect(response.status, JSON.stringify(created)).toBe(201);

    const master = await cluster.nodeForKey(TAG);
    const nodeId = await cluster.nodeId(master);
    const jobs = await Promise.all(created.shards.map((shard) => queue.getJob(shard.jobId)));
    const data = jobs.find((job) => job?.data.nodeId === nodeId)!.data;
    expect(data).not.toHaveProperty('natDiscover');
    const sync = new ShardSync({
      ...syncOptionsFromJob(data, { checkpoints: new MemoryCheckpointStore(), logger }),
      progressIntervalMs: 100,
      reconnectBaseDelayMs: 200,
      rttIntervalMs: 0,
    });
    const writer = cluster.client();
    const targetClient = target.client();
    const running = sync.run();
    try {
      await writeKeys(writer, 0, 100);
      await waitFor(
        'the first keys on the target',
        async () => (await targetClient.dbsize()) === 100,
        30_000,
      );
      const promoted = await cluster.failover(master);
      const promotedId = await cluster.nodeId(promoted);
      await writeKeys(writer, 100, 200);
      await waitFor(
        'the shard to follow the failover',
        () => sync.progress.sourceNode?.nodeId === promotedId,
        30_000,
      );
      await waitFor('every key on the target', async () => (await targetClient.dbsize()) === 200, 30_000);
      expect(sync.progress.sourceNode).toEqual({
        nodeId: promotedId,
        announced: cluster.announced(promoted),
        reachable: `127.0.0.1:${promoted.port}`,
      });
      expect(sync.progress.fullSyncs).toBe(1);
      expect(Number((await promoted.info('stats')).sync_full)).toBe(0);
    } finally {
      await sync.stop();
      await running.catch(() => undefined);
    }
  }, 120_000);
});
