import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { runCli } from '../support/cli-process.js';
import { scratchDir } from '../support/sync-harness.js';
import { allIncremental, call, waitForShards, type ShardView } from './support/api.js';
import {
  clusterPlan,
  expectConverged,
  loadClusterData,
  planNatMap,
  startClusterWrites,
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
  type WorkerProcess,
} from './support/processes.js';

// Issue 4, acceptance: a NAT-announcing 3-master source synced shard by shard by two worker processes that a
// coordinator process feeds, once into a standalone target and once into a NAT-announcing cluster target.

describe('control plane: a NAT cluster source through coordinator and workers', () => {
  const processes = new ProcessGroup();
  let queue: RedisServer;
  let source: RedisCluster;
  let standaloneTarget: RedisServer;
  let clusterTarget: RedisCluster;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let coordinator: CoordinatorProcess;
  let workers: WorkerProcess[];
  let sourceRouter: ClusterRouter;
  const context = () => processes.output();

  beforeAll(async () => {
    [queue, source, standaloneTarget, clusterTarget, scratch] = await Promise.all([
      startQueueRedis(),
      startNatSourceCluster(),
      startRedis(),
      startCluster({ masters: 3, announceHostnames: true }),
      scratchDir(),
    ]);
    sourceRouter = await ClusterRouter.open(source);
    await loadClusterData(sourceRouter, 150);
    coordinator = processes.add(await startCoordinatorProcess(queue));
    workers = await Promise.all(
      [0, 1].map(async () => processes.add(await startWorkerProcess(queue, { concurrency: 2 }))),
    );
  });

  afterAll(async () => {
    await processes.killAll();
    sourceRouter?.disconnect();
    await Promise.all([
      queue?.stop(),
      source?.stop(),
      standaloneTarget?.stop(),
      clusterTarget?.stop(),
      scratch?.remove(),
    ]);
  });

  it('plans one shard per master with announced .invalid names mapped to reachable loopback ports', async () => {
    const plan = clusterPlan('nat-to-standalone', source, { type: 'standalone', server: standaloneTarget });
    const anonymous = await call(coordinator.url, '/v1/plans', { body: plan, token: null });
    expect(anonymous.status).toBe(401);

    const writes = startClusterWrites(sourceRouter);
    let planId: string;
    try {
      const created = await call(coordinator.url, '/v1/plans', { body: plan });
      expect(created.status, created.text).toBe(201);
      planId = created.body.id;
      const natMap = planNatMap(source);
      const shards = created.body.shards as ShardView[];
      expect(shards).toHaveLength(3);
      for (const shard of shards) {
        expect(shard.announced).toMatch(/^node-\d\.internal\.invalid:\d+$/);
        expect(shard.reachable).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(natMap[shard.announced]).toBe(shard.reachable);
      }
      expect(new Set(shards.map((shard) => shard.reachable)).size).toBe(3);

      const running = await waitForShards(
        coordinator.url,
        planId,
        'every shard incremental',
        allIncremental,
        {
          context,
        },
      );
      // Three shards, two slots per worker: both workers carry a share.
      const holders = new Set(running.map((shard) => shard.workerId));
      expect([...holders].sort()).toEqual(workers.map((worker) => worker.workerId).sort());
      for (const shard of running) expect(shard.fullSyncs).toBe(1);
      // Writes keep flowing a moment after every shard streams.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      expect(await writes.stop()).toBeGreaterThan(10);
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, standaloneTarget);

    // The CLI's status view over the same API, authenticated from its env.
    const status = await runCli(['status', planId, '--api', coordinator.url, '--json'], {
      SHARDBRIDGE_API_TOKEN: API_TOKEN,
    });
    expect(status.code, status.stderr).toBe(0);
    const view = JSON.parse(status.stdout.trim().split('\n').pop()!);
    expect(view).toMatchObject({ id: planId, state: 'active' });
    expect(view.shards.map((shard: ShardView) => shard.phase)).toEqual([
      'incremental',
      'incremental',
      'incremental',
    ]);
    const denied = await runCli(['status', planId, '--api', coordinator.url, '--json'], {
      SHARDBRIDGE_API_TOKEN: '',
    });
    expect(denied.code).not.toBe(0);

    // /metrics stays open (no token) and carries per-shard gauges.
    const metrics = await call(coordinator.url, '/metrics', { token: null });
    expect(metrics.status).toBe(200);
    for (const shard of view.shards as ShardView[]) {
      const labels = `plan="${planId}",shard="${shard.id}"`;
      expect(metrics.text).toContain(`shardbridge_shard_phase{${labels},phase="incremental"} 1`);
      const acked = new RegExp(
        `^shardbridge_shard_acknowledged_offset_bytes\\{${labels}\\} (\\d+)$`,
        'm',
      ).exec(metrics.text);
      expect(Number(acked?.[1])).toBeGreaterThan(0);
      expect(metrics.text).toMatch(new RegExp(`^shardbridge_shard_lag_bytes\\{${labels}\\} \\d+$`, 'm'));
      expect(metrics.text).toContain(`shardbridge_shard_full_syncs{${labels}} 1`);
    }
    expect(metrics.text).toMatch(/^shardbridge_workers 2$/m);

    // Frees the workers' slots for the next plan.
    expect((await call(coordinator.url, `/v1/plans/${planId}/stop`, { method: 'POST' })).status).toBe(202);
    await waitForShards(
      coordinator.url,
      planId,
      'every shard stopped',
      (shards) => shards.every((shard) => shard.phase === 'stopped'),
      { context },
    );
  }, 180_000);

  it('syncs the same source into a NAT-announcing 3-master target submitted with `shardbridge submit`', async () => {
    const planFile = join(scratch.path, 'nat-to-cluster.plan.json');
    await writeFile(
      planFile,
      JSON.stringify(clusterPlan('nat-to-cluster', source, { type: 'cluster', cluster: clusterTarget })),
    );
    const writes = startClusterWrites(sourceRouter);
    let planId: string;
    try {
      const submitted = await runCli(['submit', planFile, '--api', coordinator.url, '--json'], {
        SHARDBRIDGE_API_TOKEN: API_TOKEN,
      });
      expect(submitted.code, submitted.stderr).toBe(0);
      const created = JSON.parse(submitted.stdout);
      planId = created.id;
      expect(created.shards).toHaveLength(3);
      await waitForShards(coordinator.url, planId, 'every shard incremental', allIncremental, { context });
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      await writes.stop();
    }
    const targetRouter = await ClusterRouter.open(clusterTarget);
    await expectConverged(coordinator.url, planId, source, sourceRouter, targetRouter);
    // Every target master got a share: the writer routed by slot through the target's NAT map.
    for (const node of clusterTarget.nodes) expect(await node.client().dbsize()).toBeGreaterThan(0);
    targetRouter.disconnect();
  }, 180_000);
});
