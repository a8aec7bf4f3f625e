import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, SHARD_QUEUE } from '@shardbridge/plan';
import { startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import {
  allIncremental,
  call,
  getPlan,
  waitForShards,
  type PlanView,
  type ShardView,
} from './support/api.js';
import {
  clusterPlan,
  countersByMaster,
  expectConverged,
  loadClusterData,
  startClusterWrites,
  startNatSourceCluster,
  startQueueRedis,
  sumPartialOk,
} from './support/cluster-data.js';
import { ClusterRouter } from './support/cluster-router.js';
import {
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
} from './support/processes.js';

// Issue 4, acceptance: what an operator does to a running plan — restart the coordinator, stop, resume, fix a
// failed shard and retry it through the API or through bull-board — with real coordinator and worker processes.

/** What the workers' env says TARGET_PASS is. */
const WORKER_TARGET_PASS = 'worker-side-pass';
/** What the password-protected target starts with: the workers' value is wrong for it. */
const ACTUAL_TARGET_PASS = 'target-side-pass';

/** The plan minus what moves on its own while shards stream (offsets, rates, report times). */
function stable(plan: PlanView) {
  return {
    id: plan.id,
    name: plan.name,
    state: plan.state,
    createdAt: plan.createdAt,
    phases: plan.phases,
    shards: plan.shards.map(({ id, announced, reachable, jobId, phase, jobState, workerId, fullSyncs }) => ({
      id,
      announced,
      reachable,
      jobId,
      phase,
      jobState,
      workerId,
      fullSyncs,
    })),
  };
}

describe('control plane: restart, stop, resume, failure and retry', () => {
  const processes = new ProcessGroup();
  let queue: RedisServer;
  let source: RedisCluster;
  let openTarget: RedisServer;
  let lockedTarget: RedisServer;
  let coordinator: CoordinatorProcess;
  let sourceRouter: ClusterRouter;
  let queueClient: Redis;
  const context = () => processes.output();
  let planId: string;

  beforeAll(async () => {
    [queue, source, openTarget, lockedTarget] = await Promise.all([
      startQueueRedis(),
      startNatSourceCluster(),
      startRedis(),
      startRedis({ password: ACTUAL_TARGET_PASS }),
    ]);
    sourceRouter = await ClusterRouter.open(source);
    queueClient = queue.client();
    await loadClusterData(sourceRouter, 100);
    // The coordinator's host resolves the same (wrong) reference the workers do.
    const coordinatorEnv = { TARGET_PASS: WORKER_TARGET_PASS };
    coordinator = processes.add(await startCoordinatorProcess(queue, { env: coordinatorEnv }));
    // Room for both plans' three shards at once.
    await Promise.all(
      [0, 1].map(async () =>
        processes.add(
          await startWorkerProcess(queue, { concurrency: 3, env: { TARGET_PASS: WORKER_TARGET_PASS } }),
        ),
      ),
    );
    const created = await call(coordinator.url, '/v1/plans', {
      body: clusterPlan('lifecycle', source, { type: 'standalone', server: openTarget }),
    });
    expect(created.status, created.text).toBe(201);
    planId = created.body.id;
    await waitForShards(coordinator.url, planId, 'every shard incremental', allIncremental, { context });
  });

  afterAll(async () => {
    await processes.killAll();
    sourceRouter?.disconnect();
    await Promise.all([queue?.stop(), source?.stop(), openTarget?.stop(), lockedTarget?.stop()]);
  });

  it('a killed and restarted coordinator serves the same plan while the shards keep streaming', async () => {
    const writes = startClusterWrites(sourceRouter);
    try {
      const before = await getPlan(coordinator.url, planId);
      coordinator.cli.child.kill('SIGKILL');
      await coordinator.cli.exited;
      coordinator = processes.add(
        await startCoordinatorProcess(queue, {
          port: coordinator.port,
          env: { TARGET_PASS: WORKER_TARGET_PASS },
        }),
      );
      const after = await getPlan(coordinator.url, planId);
      expect(stable(after)).toEqual(stable(before));
      expect(allIncremental(after.shards)).toBe(true);
      const list = await call(coordinator.url, '/v1/plans');
      expect(list.body.plans.map((plan: { id: string }) => plan.id)).toContain(planId);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await writes.stop();
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, openTarget);
  }, 90_000);

  it('stop leaves every shard stopped with its checkpoint; resume continues each with +CONTINUE', async () => {
    const stopped = await call(coordinator.url, `/v1/plans/${planId}/stop`, { method: 'POST' });
    expect(stopped.status).toBe(202);
    const shards = await waitForShards(
      coordinator.url,
      planId,
      'every shard stopped',
      (all) => all.every((shard) => shard.phase === 'stopped' && shard.jobState === 'completed'),
      { context },
    );
    expect((await getPlan(coordinator.url, planId)).state).toBe('stopped');
    const checkpoints = (await queueClient.keys(`${keys.checkpoint(planId)}-*`)).sort();
    expect(checkpoints).toEqual(shards.map((shard) => keys.checkpoint(shard.id)).sort());
    for (const key of checkpoints) {
      expect(Number(await queueClient.hget(key, 'offset'))).toBeGreaterThan(0);
    }

    // Writes while nobody replicates: the backlog keeps them for the resume.
    const writes = startClusterWrites(sourceRouter);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = await countersByMaster(source);
      const resumed = await call(coordinator.url, `/v1/plans/${planId}/resume`, { method: 'POST' });
      expect(resumed.status).toBe(202);
      const running = await waitForShards(
        coordinator.url,
        planId,
        'every shard incremental',
        allIncremental,
        {
          context,
        },
      );
      const after = await countersByMaster(source);
      expect(sumPartialOk(after)).toBe(sumPartialOk(before) + 3);
      for (const [address, counters] of after) expect(counters.full).toBe(before.get(address)!.full);
      for (const shard of running) expect(shard).toMatchObject({ fullSyncs: 0, partialSyncs: 1 });
      expect((await getPlan(coordinator.url, planId)).state).toBe('active');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await writes.stop();
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, openTarget);
  }, 90_000);

  it('shards fail naming the target on a wrong password; fixed, they are retried through the API and bull-board', async () => {
    const targetAddress = `${lockedTarget.host}:${lockedTarget.port}`;
    const created = await call(coordinator.url, '/v1/plans', {
      // force: a preflight would (rightly) refuse the target's credentials; this test wants the runtime failure.
      body: {
        ...clusterPlan('locked', source, { type: 'standalone', server: lockedTarget }, 'env:TARGET_PASS'),
        force: true,
      },
    });
    expect(created.status, created.text).toBe(201);
    const lockedId = created.body.id as string;
    const failed = await waitForShards(
      coordinator.url,
      lockedId,
      'every shard failed',
      // The job's failedReason, not just its state: the status reads the two in separate round trips.
      (all) =>
        all.every((shard) => shard.phase === 'failed' && shard.lastError?.message.includes(targetAddress)),
      { context },
    );
    for (const shard of failed) {
      expect(shard.lastError?.message).toContain(targetAddress);
      expect(shard.lastError?.message).toMatch(/target/i);
      expect(shard.lastError?.message).not.toContain(WORKER_TARGET_PASS);
    }
    const [first, second, third] = failed;

    // The fix: the target takes the password the workers hold.
    const admin = lockedTarget.client();
    await admin.config('SET', 'requirepass', WORKER_TARGET_PASS);

    // Retry through the API: this shard never synced, so it completes a full sync.
    expect(
      (await call(coordinator.url, `/v1/plans/${lockedId}/shards/0/retry`, { method: 'POST', token: null }))
        .status,
    ).toBe(401);
    const retried = await call(coordinator.url, `/v1/plans/${lockedId}/shards/0/retry`, { method: 'POST' });
    expect(retried.status, retried.text).toBe(202);
    await waitForShards(
      coordinator.url,
      lockedId,
      'shard 0 incremental after its retry',
      (all) => all[0].phase === 'incremental' && all[0].fullSyncs === 1,
      { context },
    );

    // Retry through bull-board's own API, which sits behind the same token.
    const boardRetry = `/ui/api/queues/${SHARD_QUEUE}/${second.jobId}/retry`;
    expect((await call(coordinator.url, boardRetry, { method: 'PUT', token: null })).status).toBe(401);
    expect((await call(coordinator.url, boardRetry, { method: 'PUT', token: 'not-the-token' })).status).toBe(
      401,
    );
    const board = await call(coordinator.url, boardRetry, { method: 'PUT' });
    expect(board.status, board.text).toBe(204);
    await waitForShards(
      coordinator.url,
      lockedId,
      'shard 1 incremental after the bull-board retry',
      (all) => all[1].phase === 'incremental',
      { context },
    );
    expect((await getPlan(coordinator.url, lockedId)).shards[2].phase).toBe('failed');

    // Now with checkpoints: the password rotates under the running shards, whose links are cut.
    await waitForCheckpoints(queueClient, [first, second]);
    await admin.config('SET', 'requirepass', 'rotated-elsewhere');
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    const refailed = await waitForShards(
      coordinator.url,
      lockedId,
      'shards 0 and 1 failed again',
      (all) =>
        all
          .slice(0, 2)
          .every((shard) => shard.phase === 'failed' && shard.lastError?.message.includes(targetAddress)),
      { context },
    );
    // Either the cut link or the refused AUTH of the reconnect, both naming the target.
    for (const shard of refailed.slice(0, 2))
      expect(shard.lastError?.message).toMatch(/target 127\.0\.0\.1:\d+/);

    const writes = startClusterWrites(sourceRouter);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const fixer = lockedTarget.client({ password: 'rotated-elsewhere' });
      await fixer.config('SET', 'requirepass', WORKER_TARGET_PASS);
      const before = await countersByMaster(source);
      expect(
        (await call(coordinator.url, `/v1/plans/${lockedId}/shards/${first.id}/retry`, { method: 'POST' }))
          .status,
      ).toBe(202);
      expect((await call(coordinator.url, boardRetry, { method: 'PUT' })).status).toBe(204);
      const resumed = await waitForShards(
        coordinator.url,
        lockedId,
        'shards 0 and 1 incremental from their checkpoints',
        (all) => all[0].phase === 'incremental' && all[1].phase === 'incremental',
        { context },
      );
      const after = await countersByMaster(source);
      for (const shard of [first, second]) {
        expect(after.get(shard.reachable)!.full).toBe(before.get(shard.reachable)!.full);
      }
      expect(sumPartialOk(after)).toBe(sumPartialOk(before) + 2);
      expect(resumed[0]).toMatchObject({ fullSyncs: 0, partialSyncs: 1 });
      expect(resumed[1]).toMatchObject({ fullSyncs: 0, partialSyncs: 1 });

      // The last failed shard goes back with the plan's resume.
      expect(third.phase).toBe('failed');
      expect((await call(coordinator.url, `/v1/plans/${lockedId}/resume`, { method: 'POST' })).status).toBe(
        202,
      );
      await waitForShards(coordinator.url, lockedId, 'every shard incremental', allIncremental, { context });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await writes.stop();
    }
    const lockedReader = { client: () => lockedTarget.client({ password: WORKER_TARGET_PASS }) };
    await expectConverged(coordinator.url, lockedId, source, sourceRouter, lockedReader);
    // The first plan kept streaming through all of it.
    await expectConverged(coordinator.url, planId, source, sourceRouter, openTarget);
  }, 120_000);

  it('answers 401 to every read and action without the token', async () => {
    for (const [method, path] of [
      ['GET', '/v1/plans'],
      ['GET', `/v1/plans/${planId}`],
      ['POST', `/v1/plans/${planId}/stop`],
      ['POST', `/v1/plans/${planId}/resume`],
      ['DELETE', `/v1/plans/${planId}`],
      ['GET', '/ui/api/queues'],
    ]) {
      const answer = await call(coordinator.url, path, { method, token: null });
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
    expect((await getPlan(coordinator.url, planId)).state).toBe('active');
  });
});

async function waitForCheckpoints(queueClient: Redis, shards: ShardView[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const offsets = await Promise.all(
      shards.map((shard) => queueClient.hget(keys.checkpoint(shard.id), 'offset')),
    );
    if (offsets.every((offset) => Number(offset) > 0)) return;
    if (Date.now() > deadline) throw new Error(`no checkpoints for ${shards.map((s) => s.id).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
