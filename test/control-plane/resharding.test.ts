import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentsOf,
  diffContents,
  formatDifferences,
  startRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { runCli } from '../support/cli-process.js';
import { allIncremental, call, getPlan, waitForShards, type ShardView } from './support/api.js';
import {
  clusterPlan,
  loadClusterData,
  planNatMap,
  startNatSourceCluster,
  startQueueRedis,
} from './support/cluster-data.js';
import { ClusterRouter } from './support/cluster-router.js';
import {
  API_TOKEN,
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
} from './support/processes.js';
import {
  contentsOfMasters,
  joinCluster,
  keysInSlots,
  RedirectingWriter,
  reshard,
  startRedirectedWrites,
  startSpareNode,
} from './support/resharding.js';

// Issue 5, "Following the cluster": slots move between source shards (and to a master added meanwhile) while the
// plan syncs under a write load that keeps updating keys of the moving slots; at the end the target equals the
// source — no key lost to a DEL replayed after its RESTORE, no stale value — and the plan shows what moved.

/** First slot of the third master (startCluster splits 16384 slots evenly, rounding down). */
const SHARD2_FIRST = Math.floor((2 * 16384) / 3);

interface TopologyEventView {
  kind: string;
  from?: string;
  to?: string;
  slots: Array<[number, number]>;
}

describe('control plane: resharding of a NAT cluster source while it syncs', () => {
  const processes = new ProcessGroup();
  let queue: RedisServer;
  let source: RedisCluster;
  let spare: RedisServer;
  let target: RedisServer;
  let coordinator: CoordinatorProcess;
  const context = () => processes.output();

  beforeAll(async () => {
    [queue, source, spare, target] = await Promise.all([
      startQueueRedis(),
      startNatSourceCluster(),
      startSpareNode('node-3.internal.invalid'),
      startRedis(),
    ]);
    const router = await ClusterRouter.open(source);
    await loadClusterData(router, 40);
    router.disconnect();
    coordinator = processes.add(await startCoordinatorProcess(queue, { args: ['--topology-check', '300'] }));
    await Promise.all(
      [0, 1].map(async () => processes.add(await startWorkerProcess(queue, { concurrency: 2 }))),
    );
  });

  afterAll(async () => {
    await processes.killAll();
    await Promise.all([queue?.stop(), source?.stop(), spare?.stop(), target?.stop()]);
  });

  it('re-plans moved slots and a scale-out master, and the target ends equal to the source', async () => {
    const natMap = {
      ...planNatMap(source),
      [`node-3.internal.invalid:${spare.port}`]: `${spare.host}:${spare.port}`,
    };
    const plan = clusterPlan('resharding', source, { type: 'standalone', server: target });
    (plan.source as { natMap: Record<string, string> }).natMap = natMap;
    const [id0, id1, id2] = await Promise.all(source.nodes.map((node) => source.nodeId(node)));
    const masters = () => [...source.nodes, spare];
    const writer = new RedirectingWriter(
      masters,
      () => natMap,
      `${source.nodes[0].host}:${source.nodes[0].port}`,
    );
    // Keys of the slots about to move (first 300 of shard 0, first 200 of shard 2) and some that stay put.
    const bases = [
      ...keysInSlots('a', 0, 299, 60),
      ...keysInSlots('b', SHARD2_FIRST, SHARD2_FIRST + 199, 60),
      ...keysInSlots('c', 5461, SHARD2_FIRST - 1, 20),
    ];
    const writes = startRedirectedWrites(writer, bases);
    let planId: string;
    try {
      const created = await call(coordinator.url, '/v1/plans', { body: plan });
      expect(created.status, created.text).toBe(201);
      planId = created.body.id;
      const shards = created.body.shards as ShardView[];
      expect(shards.map((shard) => shard.reachable)).toEqual(
        source.nodes.map((node) => `${node.host}:${node.port}`),
      );
      await waitForShards(coordinator.url, planId, 'every shard incremental', allIncremental, { context });

      // Shard 0 → shard 1, key by key with MIGRATE, under the write load.
      await reshard(source.nodes[0], id0, id1, 300);
      // Scale-out: a fourth master joins and takes slots from shard 2.
      await joinCluster(source, spare);
      const spareAdmin = spare.client();
      const spareId = String(await spareAdmin.call('CLUSTER', 'MYID'));
      spareAdmin.disconnect();
      await reshard(source.nodes[0], id2, spareId, 200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      expect(await writes.stop()).toBeGreaterThan(100);
      writer.disconnect();
    }

    const running = await waitForShards(
      coordinator.url,
      planId,
      'the added shard to stream',
      (all) => all.length === 4 && allIncremental(all),
      { context },
    );
    expect(running[3]).toMatchObject({ id: `${planId}-3`, reachable: `${spare.host}:${spare.port}` });

    // Converged: each shard's target confirmed its master's offset, then the contents match.
    const deadline = Date.now() + 60_000;
    const byAddress = new Map(masters().map((node) => [`${node.host}:${node.port}`, node]));
    const goals = await Promise.all(
      running.map(async (shard) =>
        Number((await byAddress.get(shard.reachable)!.info('replication')).master_repl_offset),
      ),
    );
    await waitForShards(
      coordinator.url,
      planId,
      'every shard to confirm its master offset',
      (all) => all.every((shard, index) => shard.acknowledgedOffset >= goals[index]),
      { context, timeoutMs: 60_000 },
    );
    const targetClient = target.client();
    for (;;) {
      const differences = diffContents(await contentsOfMasters(masters()), await contentsOf(targetClient), {
        streamEntriesRead: 'ignore',
      });
      if (differences.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(`target differs from the source:\n${formatDifferences(differences)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    targetClient.disconnect();

    // What the plan shows.
    const view = await getPlan(coordinator.url, planId);
    const events = (view as unknown as { topologyEvents: TopologyEventView[] }).topologyEvents;
    const moved = (from: string, to: string) =>
      events
        .filter((event) => event.kind === 'slots-moved' && event.from === from && event.to === to)
        .flatMap((event) => event.slots);
    expect(coverage(moved(`${planId}-0`, `${planId}-1`))).toEqual([[0, 299]]);
    expect(coverage(moved(`${planId}-2`, `${planId}-3`))).toEqual([[SHARD2_FIRST, SHARD2_FIRST + 199]]);
    expect(events.filter((event) => event.kind === 'shard-added')).toEqual([
      expect.objectContaining({ to: `${planId}-3` }),
    ]);
    const shardsNow = view.shards as Array<ShardView & { slots: Array<[number, number]>; addedAt?: number }>;
    expect(shardsNow.map((shard) => shard.slots)).toEqual([
      [[300, 5460]],
      [
        [0, 299],
        [5461, SHARD2_FIRST - 1],
      ],
      [[SHARD2_FIRST + 200, 16383]],
      [[SHARD2_FIRST, SHARD2_FIRST + 199]],
    ]);
    expect(shardsNow[3].addedAt).toBeGreaterThan(0);
    const counters = shardsNow as unknown as Array<{
      migrationBarriers: number;
      migrationBarrierTimeouts: number;
    }>;
    // The destinations held migrated keys behind barriers; none had to give up waiting.
    expect(counters[1].migrationBarriers).toBeGreaterThan(0);
    expect(counters[3].migrationBarriers).toBeGreaterThan(0);
    expect(counters.map((shard) => shard.migrationBarrierTimeouts)).toEqual([0, 0, 0, 0]);

    const metrics = await call(coordinator.url, '/metrics', { token: null });
    expect(metrics.text).toMatch(
      new RegExp(`^shardbridge_topology_events_total\\{plan="${planId}",kind="shard-added"\\} 1$`, 'm'),
    );
    const status = await runCli(['status', planId, '--api', coordinator.url], {
      SHARDBRIDGE_API_TOKEN: API_TOKEN,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('slots-moved');
    expect(status.stdout).toMatch(new RegExp(`shard-added +${planId}-3 +slots ${SHARD2_FIRST}-`));
  }, 150_000);
});

/** Merged inclusive ranges. */
function coverage(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [first, last] of sorted) {
    const previous = merged.at(-1);
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else merged.push([first, last]);
  }
  return merged;
}
