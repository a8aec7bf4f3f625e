import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { queueOf } from '../../apps/coordinator/src/test-support/harness.js';
import { runCli } from '../support/cli-process.js';
import { PlanCutOverError, PlanStore } from '../../apps/coordinator/src/plan-store.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from '../support/in-process-control-plane.js';

// Issue 15, items 1, 3 and 6: a cut-over plan is final through every API call; one plan per name; a `mode: "full"`
// plan ends `completed`. Real coordinator, real workers, real source and target.

interface PlanView {
  id: string;
  state: string;
  plan: { name: string; target: { seeds: string[] } };
  shards: Array<{ id: string; phase: string; jobState: string }>;
}

let queue: RedisServer;
let source: RedisServer;
let target: RedisServer;
let plane: InProcessControlPlane;

beforeAll(async () => {
  [queue, source, target] = await Promise.all([
    startRedis({ config: { appendonly: 'yes', 'maxmemory-policy': 'noeviction' } }),
    startRedis(),
    startRedis(),
  ]);
  plane = await startInProcessControlPlane(queue, { concurrency: 4 });
});

afterAll(async () => {
  await plane?.close();
  await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
});

function planOf(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    ...extra,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function request(method: string, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${plane.url}${path}`, { method, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

describe('a cut-over plan stays cut over', () => {
  let planId: string;

  it('cuts over a live plan', async () => {
    await source.client().set('counter', '10');
    const created = await postJson(`${plane.url}/v1/plans`, planOf('final'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    planId = created.body.id;
    await pollJson<PlanView>(`${plane.url}/v1/plans/${planId}`, (plan) =>
      plan.shards.every((shard) => shard.phase === 'incremental'),
    );
    const started = await postJson(`${plane.url}/v1/plans/${planId}/cutover`, {
      pauseSource: true,
      verify: { roundDelayMs: 200 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const report = await pollJson<{ status: string; reason?: string }>(
      `${plane.url}/v1/plans/${planId}/cutover`,
      (view) => view.status === 'cut-over' || view.status === 'failed',
      120_000,
    );
    expect(report.status, report.reason).toBe('cut-over');
  });

  it('refuses resume, retry and re-queueing, and keeps every control at stop', async () => {
    // The target is the primary now: the application writes there, then a stale write lands on the source.
    await target.client().set('counter', '11');
    await source.client().set('counter', '99');

    const resumed = await request('POST', `/v1/plans/${planId}/resume`);
    expect(resumed.status).toBe(409);
    expect(resumed.body.code).toBe('PLAN_CUT_OVER');
    expect(resumed.body.detail).toContain('final');

    const retried = await request('POST', `/v1/plans/${planId}/shards/0/retry`);
    expect(retried.status).toBe(409);
    expect(retried.body.code).toBe('PLAN_CUT_OVER');

    // A stop does not turn it into a resumable `stopped` plan.
    const stopped = await request('POST', `/v1/plans/${planId}/stop`);
    expect(stopped.status).toBe(202);
    expect(stopped.body.state).toBe('cut-over');
    expect((await request('POST', `/v1/plans/${planId}/resume`)).status).toBe(409);

    const view = await pollJson<PlanView>(`${plane.url}/v1/plans/${planId}`, () => true);
    expect(view.state).toBe('cut-over');
    expect(view.shards.map((shard) => shard.jobState)).toEqual(['completed']);
    expect(await queue.client().get(keys.control(`${planId}-0`))).toBe('stop');
  });

  it('refuses `run` controls at the store itself, whoever asks', async () => {
    const raw = queue.client();
    // What a coordinator of any version, or a script, would do: the store's own script refuses it.
    const store = new PlanStore(raw);
    await expect(store.setControl(planId, [`${planId}-0`], 'run')).rejects.toBeInstanceOf(PlanCutOverError);
    await expect(store.setState(planId, 'active')).rejects.toBeInstanceOf(PlanCutOverError);
    expect(await raw.get(keys.control(`${planId}-0`))).toBe('stop');
    expect(await raw.hget(keys.plan(planId), 'state')).toBe('cut-over');
  });

  it('a job retried behind the API (queue UI) completes without syncing', async () => {
    const shardQueue = queueOf(queue);
    const job = await shardQueue.getJob(`${planId}-0`);
    expect(job).toBeDefined();
    await job!.retry('completed');
    await shardQueue.close();
    await pollJson<PlanView>(`${plane.url}/v1/plans/${planId}`, (plan) =>
      plan.shards.every((shard) => shard.jobState === 'completed'),
    );
    // Give a wrongly running shard every chance to write the stale source value.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await target.client().get('counter')).toBe('11');
  });

  it('stays cut over through the CLI: resume, retry and stop', async () => {
    const api = ['--api', plane.url];
    const resumed = await runCli(['resume', planId, ...api]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('PLAN_CUT_OVER');
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    const retried = await runCli(['retry', planId, '0', ...api]);
    expect(retried.code).toBe(1);
    expect(retried.stderr).toContain('PLAN_CUT_OVER');
    const stopped = await runCli(['stop', planId, ...api]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const view = await pollJson<PlanView>(`${plane.url}/v1/plans/${planId}`, () => true);
    expect(view.state).toBe('cut-over');
    expect(await target.client().get('counter')).toBe('11');
  });

  it('refuses a new plan of the same name unless it replaces the cut-over one', async () => {
    const again = await postJson(`${plane.url}/v1/plans`, planOf('final'));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('PLAN_NAME_IN_USE');
    expect(again.body.detail).toContain(planId);
    expect(again.body.detail).toContain('--replace');
    expect(await target.client().get('counter')).toBe('11');
  });
});

describe('one plan per name', () => {
  it('refuses a second plan of an active plan name, with other contents too, and replaces on request', async () => {
    const first = await postJson(`${plane.url}/v1/plans`, planOf('orders'));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const firstId: string = first.body.id;

    const changed = planOf('orders', { targetMode: 'replace', mode: 'sync' });
    const second = await postJson(`${plane.url}/v1/plans`, changed);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'PLAN_NAME_IN_USE' });
    expect(second.body.detail).toContain(firstId);
    const list = await request('GET', '/v1/plans');
    expect(list.body.plans.filter((plan: { name: string }) => plan.name === 'orders')).toHaveLength(1);

    // replace=true stops and deletes the running plan: 409 PLAN_RUNNING until its shard has stopped.
    let replaced: Awaited<ReturnType<typeof postJson>> | undefined;
    for (let i = 0; i < 60; i++) {
      replaced = await postJson(`${plane.url}/v1/plans?replace=true`, changed);
      if (replaced.status !== 409) break;
      expect(replaced.body.code).toBe('PLAN_RUNNING');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(replaced?.status, JSON.stringify(replaced?.body)).toBe(201);
    expect(replaced?.body.id).not.toBe(firstId);
    expect((await request('GET', `/v1/plans/${firstId}`)).status).toBe(404);
    const after = await request('GET', '/v1/plans');
    expect(after.body.plans.filter((plan: { name: string }) => plan.name === 'orders')).toHaveLength(1);
    await request('POST', `/v1/plans/${replaced?.body.id}/stop`);
  });

  it('rejects a malformed replace flag', async () => {
    const answer = await postJson(`${plane.url}/v1/plans?replace=maybe`, planOf('other'));
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('QUERY_INVALID');
  });
});

describe('a mode "full" plan', () => {
  it('ends completed once every shard completed its full sync', async () => {
    const created = await postJson(`${plane.url}/v1/plans`, planOf('one-shot', { mode: 'full' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const done = await pollJson<PlanView>(
      `${plane.url}/v1/plans/${created.body.id}`,
      (plan) => plan.state === 'completed',
    );
    expect(done.shards.every((shard) => shard.phase === 'completed')).toBe(true);
    const list = await request('GET', '/v1/plans');
    const listed = list.body.plans.find((plan: { id: string }) => plan.id === created.body.id);
    expect(listed.state).toBe('completed');
  });
});
