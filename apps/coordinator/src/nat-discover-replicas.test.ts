import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { discoverSourceShards, parsePlan, type ShardJobData } from '@shardbridge/plan';
import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, queueOf, startApp } from './test-support/harness.js';

/**
 * A NAT-announcing cluster (every node announces an unresolvable `node-<i>.internal.invalid`) whose nodes are
 * reachable only as listed in natDiscover: the only place a replica's reachable address is learnt is the
 * coordinator's CLUSTER MYID match, so it must reach the worker through the job's natMap.
 */
describe('natDiscover: replicas mapped into every shard job', () => {
  let queueRedis: RedisServer;
  let cluster: RedisCluster;
  let target: RedisServer;
  let coordinator: RunningCoordinator;
  let queue: Queue<ShardJobData>;

  beforeAll(async () => {
    [queueRedis, cluster, target] = await Promise.all([
      startRedis(),
      startCluster({ masters: 3, replicasPerMaster: 1, announceHostnames: true }),
      startRedis(),
    ]);
    coordinator = await startApp(queueRedis);
    queue = queueOf(queueRedis);
  }, 120_000);
  afterAll(async () => {
    await queue?.close();
    await coordinator?.close();
    await Promise.all([queueRedis?.stop(), cluster?.stop(), target?.stop()]);
  });

  const plan = (name: string) => ({
    name,
    source: {
      type: 'cluster',
      seeds: [`127.0.0.1:${cluster.nodes[0].port}`],
      natDiscover: cluster.nodes.map((node) => `127.0.0.1:${node.port}`),
    },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
  });

  /** announced → reachable of every replica, as the test cluster knows it. */
  async function replicaMap(): Promise<Record<string, string>> {
    const replicas = await cluster.replicas();
    expect(replicas).toHaveLength(3);
    return Object.fromEntries(replicas.map((node) => [cluster.announced(node), `127.0.0.1:${node.port}`]));
  }

  it('discovery lists each shard’s replicas with the address natDiscover found for them', async () => {
    const shards = await discoverSourceShards(parsePlan(plan('discover')).source);
    const expected = await replicaMap();
    const listed = shards.flatMap((shard) => shard.replicaAddresses ?? []);
    expect(Object.fromEntries(listed.map((node) => [node.announced, node.reachable]))).toEqual(expected);
    for (const shard of shards) expect(shard.replicaAddresses).toHaveLength(1);
  });

  it('every job’s natMap holds every master and replica, announced → reachable', async () => {
    const answer = await call(coordinator.url, '/v1/plans', { body: plan('nat-replicas') });
    expect(answer.status, answer.text).toBe(201);
    const masters = await cluster.masters();
    const expected = {
      ...(await replicaMap()),
      ...Object.fromEntries(masters.map((node) => [cluster.announced(node), `127.0.0.1:${node.port}`])),
    };
    expect(Object.keys(expected)).toHaveLength(6);
    for (const shard of answer.body.shards as Array<{ jobId: string }>) {
      const job = await queue.getJob(shard.jobId);
      expect(job!.data.natMap).toEqual(expected);
    }
    await call(coordinator.url, `/v1/plans/${answer.body.id}/stop`, { method: 'POST' });
  });
});
