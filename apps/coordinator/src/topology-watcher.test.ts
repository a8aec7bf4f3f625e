import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { mergeSlotRanges, type ShardJobData, type TopologyEvent } from '@shardbridge/plan';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, eventually, queueOf, startApp } from './test-support/harness.js';

describe('TopologyWatcher through the coordinator (real cluster source)', () => {
  let queueRedis: RedisServer;
  let cluster: RedisCluster;
  let target: RedisServer;
  let coordinator: RunningCoordinator;
  let queue: Queue<ShardJobData>;

  beforeAll(async () => {
    [queueRedis, cluster, target] = await Promise.all([
      startRedis(),
      startCluster({ masters: 3 }),
      startRedis(),
    ]);
    coordinator = await startApp(queueRedis, { topologyCheckMs: 200 });
    queue = queueOf(queueRedis);
  });

  afterAll(async () => {
    await queue?.close();
    await coordinator?.close();
    await Promise.all([queueRedis?.stop(), cluster?.stop(), target?.stop()]);
  });

  it('records moved slots, drains an emptied shard and brings the jobs’ data up to date', async () => {
    const seed = cluster.nodes[0];
    const created = await call(coordinator.url, '/v1/plans', {
      body: {
        name: 'watched',
        source: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`] },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      },
    });
    expect(created.status, created.text).toBe(201);
    const planId = created.body.id as string;
    const [first, second] = created.body.shards as Array<{ id: string; slots: Array<[number, number]> }>;
    const [from, to] = first.slots[0];

    // Every slot of the first master goes to the second (no keys: no MIGRATE needed), as a finished reshard leaves it.
    const secondId = await cluster.nodeId(cluster.nodes[1]);
    await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = node.client();
        const pipeline = client.pipeline();
        for (let slot = from; slot <= to; slot++)
          pipeline.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', secondId);
        await pipeline.exec();
        client.disconnect();
      }),
    );

    const plan = await eventually(async () => {
      const answer = await call(coordinator.url, `/v1/plans/${planId}`);
      const events = answer.body.topologyEvents as TopologyEvent[];
      return events.some((event) => event.kind === 'shard-drained') ? answer.body : undefined;
    }, 'the drained shard');
    // A tick may land mid-change: the moves can come in several events, the drain comes once.
    const events = plan.topologyEvents as TopologyEvent[];
    const moved = events.filter((event) => event.kind === 'slots-moved');
    expect(moved.every((event) => event.from === first.id && event.to === second.id)).toBe(true);
    expect(mergeSlotRanges(moved.flatMap((event) => event.slots))).toEqual([[from, to]]);
    expect(events.filter((event) => event.kind !== 'slots-moved')).toEqual([
      expect.objectContaining({ kind: 'shard-drained', from: first.id }),
    ]);
    expect(plan.shards[0]).toMatchObject({ id: first.id, slots: [] });
    expect(plan.shards[0].drainedAt).toBeGreaterThan(0);
    expect(plan.shards[1].slots).toEqual(mergeSlotRanges([[from, to], ...second.slots]));
    expect(plan.shards).toHaveLength(3);
    expect((await queue.getJob(second.id))?.data.slots).toEqual(
      mergeSlotRanges([[from, to], ...second.slots]),
    );

    // Nothing new is recorded while the topology stays as it is.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const again = await call(coordinator.url, `/v1/plans/${planId}`);
    expect(again.body.topologyEvents).toHaveLength(events.length);
    const metrics = await call(coordinator.url, '/metrics', { token: null });
    expect(metrics.text).toContain(
      `shardbridge_topology_events_total{plan="${planId}",kind="slots-moved"} 1`,
    );
  });
});
