import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job, type Queue } from 'bullmq';
import {
  freePort,
  startCluster,
  startRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { keys, SHARD_QUEUE, type ShardJobData, type ShardJobProgress } from '@shardbridge/plan';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, eventually, queueOf, startApp } from './test-support/harness.js';

const PASSWORD = 'cluster-s3cret-password';

let queueRedis: RedisServer;
let cluster: RedisCluster;
let target: RedisServer;
let coordinator: RunningCoordinator;
let queue: Queue<ShardJobData>;

beforeAll(async () => {
  [queueRedis, cluster, target] = await Promise.all([
    startRedis(),
    startCluster({ masters: 3, announceHostnames: true, password: PASSWORD }),
    startRedis(),
  ]);
  process.env.SB_TEST_CLUSTER_PASSWORD = PASSWORD;
  coordinator = await startApp(queueRedis, { rolloutIntervalMs: 100 });
  queue = queueOf(queueRedis);
});

afterAll(async () => {
  await queue?.close();
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), cluster?.stop(), target?.stop()]);
});

function natMap(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(cluster.natMap()).map(([announced, { host, port }]) => [announced, `${host}:${port}`]),
  );
}

function clusterPlan(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    source: {
      type: 'cluster',
      seeds: [`${cluster.nodes[0].host}:${cluster.nodes[0].port}`],
      password: 'env:SB_TEST_CLUSTER_PASSWORD',
      natMap: natMap(),
      readFrom: 'prefer-replica',
    },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    ...extra,
  };
}

/** The plan with one announced master left out of natMap. */
function planMissingMapping(name: string): { plan: Record<string, unknown>; missing: string } {
  const plan = clusterPlan(name);
  const map = natMap();
  const missing = cluster.announced(cluster.nodes[1]);
  delete map[missing];
  return { plan: { ...plan, source: { ...(plan.source as object), natMap: map } }, missing };
}

async function jobCount(): Promise<number> {
  return Object.values(await queue.getJobCounts()).reduce((sum, count) => sum + count, 0);
}

describe('POST /v1/discover', () => {
  it('answers the preflight report of a NAT cluster, without secrets and without queueing', async () => {
    const before = await jobCount();
    const answer = await call(coordinator.url, '/v1/discover', { body: clusterPlan('discover-ok') });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.ok).toBe(true);
    expect(answer.body.problems).toEqual([]);
    expect(answer.body.source.shards).toHaveLength(3);
    for (const shard of answer.body.source.shards) {
      expect(shard).toMatchObject({ role: 'master', auth: 'ok', mappedBy: 'natMap', psync: 'permitted' });
      expect(natMap()[shard.announced]).toBe(shard.reachable);
    }
    expect(answer.body.target.nodes[0]).toMatchObject({ writable: true });
    expect(answer.text).not.toContain(PASSWORD);
    expect(await jobCount()).toBe(before);
  });

  it('names a missing mapping and the line to add (still 200: the report is the answer)', async () => {
    const { plan, missing } = planMissingMapping('discover-missing');
    const answer = await call(coordinator.url, '/v1/discover', { body: plan });
    expect(answer.status).toBe(200);
    expect(answer.body.ok).toBe(false);
    const problem = answer.body.problems.find((entry: { address: string }) => entry.address === missing);
    expect(problem).toMatchObject({ side: 'source' });
    expect(problem.fix).toContain(missing);
  });

  it('validates like POST /v1/plans: literal passwords are refused', async () => {
    const plan = clusterPlan('discover-literal');
    const answer = await call(coordinator.url, '/v1/discover', {
      body: { ...plan, source: { ...(plan.source as object), password: PASSWORD } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual(expect.objectContaining({ field: 'source.password' }));
    expect(answer.text).not.toContain(PASSWORD);
  });
});

describe('POST /v1/plans with preflight', () => {
  it('refuses a plan that fails preflight with 422 PREFLIGHT_FAILED and queues nothing', async () => {
    const before = await jobCount();
    const { plan, missing } = planMissingMapping('refused');
    const answer = await call(coordinator.url, '/v1/plans', { body: plan });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body.code).toBe('PREFLIGHT_FAILED');
    expect(answer.body.problems).toContainEqual({
      side: 'source',
      address: missing,
      code: expect.any(String),
      message: expect.any(String),
      fix: expect.stringContaining(missing),
    });
    expect(await jobCount()).toBe(before);
  });

  it('accepts a failing plan with "force": true', async () => {
    const port = await freePort();
    const answer = await call(coordinator.url, '/v1/plans', {
      body: clusterPlan('forced', {
        target: { type: 'standalone', seeds: [`127.0.0.1:${port}`] },
        force: true,
      }),
    });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.shards).toHaveLength(3);
    await call(coordinator.url, `/v1/plans/${answer.body.id}/stop`, { method: 'POST' });
  });

  it('gives cluster shard jobs what a worker needs to follow a failover', async () => {
    const answer = await call(coordinator.url, '/v1/plans', { body: clusterPlan('failover-data') });
    expect(answer.status, answer.text).toBe(201);
    const reachable = (answer.body.shards as Array<{ reachable: string }>).map((shard) => shard.reachable);
    const job = await queue.getJob(`${answer.body.id}-1`);
    const seed = `${cluster.nodes[0].host}:${cluster.nodes[0].port}`;
    expect(job!.data).toMatchObject({ natMap: natMap(), readFrom: 'prefer-replica' });
    expect([...job!.data.clusterSeeds!].sort()).toEqual([...new Set([...reachable, seed])].sort());
    expect(JSON.stringify(job!.data)).not.toContain(PASSWORD);
    await call(coordinator.url, `/v1/plans/${answer.body.id}/stop`, { method: 'POST' });
  });
});

interface CanaryWorker {
  /** unix ms of the first healthy report of the canary; the lag is reported too high before */
  healthySince(): number | undefined;
  close(): Promise<void>;
}

/**
 * Runs the shard jobs of one plan: reports `incremental` every 100 ms, with a lag above the bound for the first
 * `unhealthyMs`, then within it, until the shard's control says stop.
 */
function canaryWorker(planId: string, unhealthyMs: number): CanaryWorker {
  let healthySince: number | undefined;
  const control = queueRedis.client();
  const worker = new Worker<ShardJobData>(
    SHARD_QUEUE,
    async (job: Job<ShardJobData>) => {
      if (job.data.planId !== planId) throw new Error('not this test’s plan');
      const started = Date.now();
      while ((await control.get(keys.control(job.data.shardId))) !== 'stop') {
        const healthy = Date.now() - started >= unhealthyMs;
        if (healthy) healthySince ??= Date.now();
        await job.updateProgress({
          phase: 'incremental',
          workerId: 'canary-test',
          lagMs: healthy ? 5 : 60_000,
          reportedAt: Date.now(),
        } as Partial<ShardJobProgress>);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { stopped: true };
    },
    {
      connection: { host: queueRedis.host, port: queueRedis.port, maxRetriesPerRequest: null },
      concurrency: 8,
    },
  );
  return {
    healthySince: () => healthySince,
    async close() {
      await worker.close();
      control.disconnect();
    },
  };
}

describe('canary rollout', () => {
  it('queues the other shards only after the canary held incremental sync for healthyFor, across a restart', async () => {
    const healthyFor = 1_500;
    const created = await call(coordinator.url, '/v1/plans', {
      body: clusterPlan('canary', { rollout: { canary: 1, healthyFor: `${healthyFor}ms`, maxLagMs: 1000 } }),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const detail = await call(coordinator.url, `/v1/plans/${id}`);
    expect(detail.body.rollout).toMatchObject({ stage: 'canary', canaryShards: [`${id}-0`] });
    expect(await queue.getJob(`${id}-1`)).toBeUndefined();
    expect(await queue.getJob(`${id}-2`)).toBeUndefined();

    // A restarted coordinator picks the pending rollout up from the plan hash.
    await coordinator.close();
    coordinator = await startApp(queueRedis, { rolloutIntervalMs: 100 });

    const worker = canaryWorker(id, 1_000);
    try {
      const [second, third] = await eventually(
        async () => {
          const jobs = await Promise.all([queue.getJob(`${id}-1`), queue.getJob(`${id}-2`)]);
          return jobs.every(Boolean) ? jobs : undefined;
        },
        'the remaining shards to be queued',
        30_000,
      );
      const healthySince = worker.healthySince();
      expect(healthySince).toBeDefined();
      for (const job of [second!, third!])
        expect(job.timestamp - healthySince!).toBeGreaterThanOrEqual(healthyFor);
      const after = await call(coordinator.url, `/v1/plans/${id}`);
      expect(after.body.rollout).toMatchObject({ stage: 'complete', canaryShards: [`${id}-0`] });
      expect(after.body.rollout.since).toBeGreaterThanOrEqual(healthySince! + healthyFor);
    } finally {
      await call(coordinator.url, `/v1/plans/${id}/stop`, { method: 'POST' });
      await worker.close();
    }
  });
});
