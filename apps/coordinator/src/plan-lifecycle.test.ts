import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { keys, type ShardJobData } from '@shardbridge/plan';
import type { RunningCoordinator } from './start-coordinator.js';
import {
  call,
  eventually,
  fakeShardWorker,
  queueOf,
  standalonePlan,
  startApp,
  type FakeBehaviour,
} from './test-support/harness.js';

let queueRedis: RedisServer;
let cluster: RedisCluster;
let target: RedisServer;
let coordinator: RunningCoordinator;
let queue: Queue<ShardJobData>;
const behaviour = new Map<string, FakeBehaviour>();
let worker: ReturnType<typeof fakeShardWorker> | undefined;

beforeAll(async () => {
  [queueRedis, cluster, target] = await Promise.all([
    startRedis(),
    startCluster({ masters: 3 }),
    startRedis(),
  ]);
  coordinator = await startApp(queueRedis);
  queue = queueOf(queueRedis);
});

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), cluster?.stop(), target?.stop()]);
});

interface ShardView {
  id: string;
  phase: string;
  jobState: string;
  attempts: number;
  lastError: { code: string; message: string } | null;
  workerId: string | null;
}

async function shardsOf(id: string): Promise<ShardView[]> {
  const answer = await call(coordinator.url, `/v1/plans/${id}`);
  expect(answer.status).toBe(200);
  return answer.body.shards;
}

/** Waits until every shard's phase is the one `expected` gives for it. */
async function phases(
  id: string,
  expected: (shard: ShardView, index: number) => string,
): Promise<ShardView[]> {
  return eventually(async () => {
    const shards = await shardsOf(id);
    return shards.every((shard, index) => shard.phase === expected(shard, index)) ? shards : undefined;
  }, `phases of ${id}`);
}

describe('a cluster plan through stop, resume, retry, restart and delete', () => {
  let id: string;
  let shardIds: string[];

  it('plans one shard per master', async () => {
    const seed = cluster.nodes[0];
    const answer = await call(coordinator.url, '/v1/plans', {
      body: {
        name: 'cluster-to-one',
        source: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`] },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      },
    });
    expect(answer.status, answer.text).toBe(201);
    id = answer.body.id;
    shardIds = answer.body.shards.map((shard: { id: string }) => shard.id);
    expect(shardIds).toEqual([`${id}-0`, `${id}-1`, `${id}-2`]);
    const slots = answer.body.shards.flatMap((shard: { slots: Array<[number, number]> }) => shard.slots);
    expect(slots.reduce((sum: number, [from, to]: [number, number]) => sum + to - from + 1, 0)).toBe(16384);
    const jobs = await Promise.all(shardIds.map((shardId) => queue.getJob(shardId)));
    for (const job of jobs) expect(job?.data.nodeId).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reports running shards from job progress and a failed one from the job', async () => {
    behaviour.set(shardIds[2], 'fail');
    worker = fakeShardWorker(queueRedis, behaviour);
    const shards = await phases(id, (_, index) => (index === 2 ? 'failed' : 'incremental'));
    expect(shards[0]).toMatchObject({ jobState: 'active', workerId: 'fake-worker-1', attempts: 0 });
    expect(shards[0]).toMatchObject({
      lagBytes: 34,
      lagMs: 12,
      sourceOffset: 1234,
      acknowledgedOffset: 1200,
    });
    expect(shards[2]).toMatchObject({
      jobState: 'failed',
      attempts: 1,
      lastError: { code: 'SHARD_FAILED', message: `fake failure of ${shardIds[2]}` },
    });
  });

  it('exposes the shards on /metrics', async () => {
    const answer = await call(coordinator.url, '/metrics');
    expect(answer.status).toBe(200);
    const labels = `plan="${id}",shard="${shardIds[0]}"`;
    for (const line of [
      `shardbridge_shard_lag_bytes{${labels}} 34`,
      `shardbridge_shard_lag_seconds{${labels}} 0.012`,
      `shardbridge_shard_ops_per_second{${labels}} 250`,
      `shardbridge_shard_rdb_bytes_done{${labels}} 4096`,
      `shardbridge_shard_keys_written{${labels}} 17`,
      `shardbridge_shard_keys_filtered{${labels}} 0`,
      `shardbridge_shard_source_offset_bytes{${labels}} 1234`,
      `shardbridge_shard_acknowledged_offset_bytes{${labels}} 1200`,
      `shardbridge_shard_reconnects{${labels}} 2`,
      `shardbridge_shard_full_syncs{${labels}} 1`,
      `shardbridge_shard_partial_syncs{${labels}} 0`,
      `shardbridge_shard_failed{plan="${id}",shard="${shardIds[2]}"} 1`,
      `shardbridge_shard_phase{${labels},phase="incremental"} 1`,
      'shardbridge_queue_jobs{state="active"} 2',
      'shardbridge_queue_jobs{state="failed"} 1',
    ]) {
      expect(answer.text).toContain(line);
    }
  });

  it('refuses to retry a running shard and retries a failed one', async () => {
    const running = await call(coordinator.url, `/v1/plans/${id}/shards/${shardIds[0]}/retry`, {
      method: 'POST',
    });
    expect(running.status).toBe(409);
    expect(running.body.code).toBe('SHARD_NOT_FINISHED');
    const unknown = await call(coordinator.url, `/v1/plans/${id}/shards/7/retry`, { method: 'POST' });
    expect(unknown.status).toBe(404);

    behaviour.delete(shardIds[2]);
    const retried = await call(coordinator.url, `/v1/plans/${id}/shards/2/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ shard: shardIds[2] });
    const shards = await phases(id, () => 'incremental');
    expect(shards[2]).toMatchObject({ attempts: 0, lastError: null });
  });

  it('stops every shard through its control key and the control channel', async () => {
    const subscriber = queueRedis.client();
    const messages: string[] = [];
    await subscriber.subscribe(keys.controlChannel());
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));

    const answer = await call(coordinator.url, `/v1/plans/${id}/stop`, { method: 'POST' });
    expect(answer.status).toBe(202);
    const raw = queueRedis.client();
    expect(await Promise.all(shardIds.map((shardId) => raw.get(keys.control(shardId))))).toEqual([
      'stop',
      'stop',
      'stop',
    ]);
    const shards = await phases(id, () => 'stopped');
    expect(shards.every((shard) => shard.jobState === 'completed')).toBe(true);
    expect((await call(coordinator.url, `/v1/plans/${id}`)).body.state).toBe('stopped');
    await eventually(async () => (messages.length >= 3 ? true : undefined), 'control messages');
    expect([...messages].sort()).toEqual([...shardIds].sort());
    await subscriber.quit();
  });

  it('resumes stopped shards', async () => {
    const answer = await call(coordinator.url, `/v1/plans/${id}/resume`, { method: 'POST' });
    expect(answer.status).toBe(202);
    await phases(id, () => 'incremental');
    expect((await call(coordinator.url, `/v1/plans/${id}`)).body.state).toBe('active');
  });

  it('serves the same plan and statuses after a coordinator restart', async () => {
    const before = await call(coordinator.url, `/v1/plans/${id}`);
    await coordinator.close();
    coordinator = await startApp(queueRedis);
    const after = await call(coordinator.url, `/v1/plans/${id}`);
    expect(after.status).toBe(200);
    const strip = (body: { shards: Array<Record<string, unknown>> }) => ({
      ...body,
      shards: body.shards.map(({ reportedAt: _reportedAt, ...rest }) => rest),
    });
    expect(strip(after.body)).toEqual(strip(before.body));
    const list = await call(coordinator.url, '/v1/plans');
    expect(list.body.plans.map((plan: { id: string }) => plan.id)).toContain(id);
  });

  it('refuses to delete while shards run, then deletes the plan, its jobs, controls and checkpoints', async () => {
    const raw = queueRedis.client();
    await raw.hset(keys.checkpoint(shardIds[0]), { replid: 'f'.repeat(40), offset: '1200', db: '0' });

    const busy = await call(coordinator.url, `/v1/plans/${id}`, { method: 'DELETE' });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('PLAN_RUNNING');
    await phases(id, () => 'stopped');

    const deleted = await call(coordinator.url, `/v1/plans/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await call(coordinator.url, `/v1/plans/${id}`)).status).toBe(404);
    expect(await Promise.all(shardIds.map((shardId) => queue.getJob(shardId)))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(
      await raw.exists(keys.plan(id), ...shardIds.map((s) => keys.control(s)), keys.checkpoint(shardIds[0])),
    ).toBe(0);
    expect(await raw.zscore(keys.plans(), id)).toBeNull();
    const metrics = await call(coordinator.url, '/metrics');
    expect(metrics.text).not.toContain(`plan="${id}"`);
  });
});

describe('a plan whose jobs wait', () => {
  it('refuses to retry a waiting shard and deletes waiting jobs', async () => {
    await worker?.close();
    worker = undefined;
    const created = await call(coordinator.url, '/v1/plans', {
      body: standalonePlan(target, target, 'idle'),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const retry = await call(coordinator.url, `/v1/plans/${id}/shards/0/retry`, { method: 'POST' });
    expect(retry.status).toBe(409);
    const resume = await call(coordinator.url, `/v1/plans/${id}/resume`, { method: 'POST' });
    expect(resume.status).toBe(202);
    expect((await shardsOf(id))[0]).toMatchObject({ phase: 'queued', jobState: 'waiting' });
    const deleted = await call(coordinator.url, `/v1/plans/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await queue.getJob(`${id}-0`)).toBeUndefined();
  });
});
