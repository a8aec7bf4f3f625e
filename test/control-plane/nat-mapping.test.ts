import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { allIncremental, call, waitForShards, type ShardView } from './support/api.js';
import {
  expectConverged,
  loadClusterData,
  planNatMap,
  startClusterWrites,
  startNatSourceCluster,
  startQueueRedis,
} from './support/cluster-data.js';
import { ClusterRouter } from './support/cluster-router.js';
import {
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
} from './support/processes.js';

// The two ways of mapping a NAT-announcing source without typing a natMap, through coordinator and worker
// processes: natRules (a suffix wildcard onto loopback, same port) and natDiscover (dial every reachable address
// and tie it to a node by CLUSTER MYID).

/** One row of `source.shards` in the /v1/discover report. */
interface PreflightShardRow {
  announced: string;
  reachable: string;
  mappedBy: string;
  error: string | null;
}

describe('control plane: a NAT cluster source mapped by natRules or natDiscover', () => {
  const processes = new ProcessGroup();
  let queue: RedisServer;
  let source: RedisCluster;
  let targets: RedisServer[];
  let coordinator: CoordinatorProcess;
  let sourceRouter: ClusterRouter;
  const context = () => processes.output();

  beforeAll(async () => {
    let target1: RedisServer;
    let target2: RedisServer;
    [queue, source, target1, target2] = await Promise.all([
      startQueueRedis(),
      startNatSourceCluster(),
      startRedis(),
      startRedis(),
    ]);
    targets = [target1, target2];
    sourceRouter = await ClusterRouter.open(source);
    await loadClusterData(sourceRouter, 60);
    coordinator = processes.add(await startCoordinatorProcess(queue));
    // Three slots: one plan's shards at a time; each case stops its plan before the next starts.
    processes.add(await startWorkerProcess(queue, { concurrency: 3 }));
  }, 60_000);

  afterAll(async () => {
    await processes.killAll();
    sourceRouter?.disconnect();
    await Promise.all([queue?.stop(), source?.stop(), ...(targets ?? []).map((target) => target?.stop())]);
  });

  /** Every node's loopback address, as the test process (and the workers) dial it. */
  const reachableNodes = () => source.nodes.map((node) => `${node.host}:${node.port}`);

  /**
   * Preflights and submits `sourceMapping` (merged into the source spec, no natMap) into `target`, keeps writes
   * flowing until every shard streams, checks the target converges, and stops the plan.
   */
  async function syncWith(
    name: string,
    sourceMapping: Record<string, unknown>,
    target: RedisServer,
    expectedMappedBy: string,
  ): Promise<void> {
    const seed = source.nodes[0];
    const plan = {
      name,
      source: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`], ...sourceMapping },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    };
    const natMap = planNatMap(source);

    const report = await call(coordinator.url, '/v1/discover', { body: plan });
    expect(report.status, report.text).toBe(200);
    expect(report.body.ok, report.text).toBe(true);
    const rows = report.body.source.shards as PreflightShardRow[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.announced).toMatch(/^node-\d\.internal\.invalid:\d+$/);
      expect(row.reachable).toBe(natMap[row.announced]);
      expect(row.mappedBy).toBe(expectedMappedBy);
      expect(row.error).toBeNull();
    }

    const writes = startClusterWrites(sourceRouter);
    let planId: string;
    try {
      const created = await call(coordinator.url, '/v1/plans', { body: plan });
      expect(created.status, created.text).toBe(201);
      planId = created.body.id;
      const shards = created.body.shards as ShardView[];
      expect(shards).toHaveLength(3);
      for (const shard of shards) {
        expect(shard.announced).toMatch(/^node-\d\.internal\.invalid:\d+$/);
        expect(shard.reachable).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(natMap[shard.announced]).toBe(shard.reachable);
      }
      expect(new Set(shards.map((shard) => shard.reachable))).toEqual(new Set(reachableNodes()));

      const running = await waitForShards(
        coordinator.url,
        planId,
        'every shard incremental',
        allIncremental,
        {
          context,
          timeoutMs: 60_000,
        },
      );
      for (const shard of running) expect(shard.fullSyncs).toBe(1);
      // Writes keep flowing a moment after every shard streams.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      expect(await writes.stop()).toBeGreaterThan(10);
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, target);
    const live = target.client();
    try {
      expect((await live.keys('live:*')).length).toBeGreaterThan(0);
    } finally {
      live.disconnect();
    }

    // Frees the worker's slots for the next case.
    expect((await call(coordinator.url, `/v1/plans/${planId}/stop`, { method: 'POST' })).status).toBe(202);
    await waitForShards(
      coordinator.url,
      planId,
      'every shard stopped',
      (all) => all.every((shard) => shard.phase === 'stopped'),
      { context, timeoutMs: 30_000 },
    );
  }

  it('maps announced node-<i>.internal.invalid names with a natRules wildcard onto loopback, same port', async () => {
    await syncWith(
      'nat-rules',
      { natRules: [{ match: '*.internal.invalid', host: '127.0.0.1', port: 'same' }] },
      targets[0],
      'natRule',
    );
  }, 90_000);

  it('maps every master by natDiscover (CLUSTER MYID over the reachable addresses) with no natMap', async () => {
    await syncWith('nat-discover', { natDiscover: reachableNodes() }, targets[1], 'natDiscover');
  }, 90_000);
});
