import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import type { RunningCoordinator } from '../start-coordinator.js';
import { call, eventually, fakeShardWorker, standalonePlan, startApp } from '../test-support/harness.js';

const TOKEN = 'tok-dashboard-5c1e';
const auth = { authorization: `Bearer ${TOKEN}` };

let queueRedis: RedisServer;
let redis: RedisServer;
let coordinator: RunningCoordinator;
let worker: ReturnType<typeof fakeShardWorker>;
let planId: string;

beforeAll(async () => {
  [queueRedis, redis] = await Promise.all([startRedis(), startRedis()]);
  coordinator = await startApp(queueRedis, { apiToken: TOKEN, historyIntervalMs: 100 });
  worker = fakeShardWorker(queueRedis);
  const created = await call(coordinator.url, '/v1/plans', {
    body: standalonePlan(redis, redis),
    headers: auth,
  });
  expect(created.status, created.text).toBe(201);
  planId = created.body.id;
});

afterAll(async () => {
  // the fake worker's job runs until its shard is told to stop
  if (planId) await call(coordinator.url, `/v1/plans/${planId}/stop`, { method: 'POST', headers: auth });
  await worker?.close();
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), redis?.stop()]);
});

interface HistoryAnswer {
  id: string;
  windowMs: number;
  now: number;
  shards: Record<string, Array<{ at: number; lagBytes: number; lagMs: number; opsPerSecond: number }>>;
}

describe('dashboard routes', () => {
  it('serves the page, its styles and scripts without a token; / redirects to it', async () => {
    const page = await call(coordinator.url, '/dashboard/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<script type="module" src="js/main.js">');
    // the page holds no data: only the API answers with plans, and it wants the token
    expect(page.text).not.toContain(planId);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const script = await call(coordinator.url, '/dashboard/js/main.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await call(coordinator.url, '/dashboard/dashboard.css')).headers.get('content-type')).toMatch(
      /^text\/css/,
    );
    const root = await call(coordinator.url, '/', { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    const bare = await call(coordinator.url, '/dashboard', { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/dashboard/');
    expect((await call(coordinator.url, '/dashboard/nothing.js')).status).toBe(404);
  });

  it('GET /v1/plans/:id/history: the sampled lag and ops/s of each shard, with the token only', async () => {
    expect((await call(coordinator.url, `/v1/plans/${planId}/history`)).status).toBe(401);
    const history = await eventually(async () => {
      const answer = await call(coordinator.url, `/v1/plans/${planId}/history`, { headers: auth });
      const body = answer.body as HistoryAnswer;
      return Object.values(body.shards).some((samples) => samples.length >= 2) ? body : undefined;
    }, 'two samples of the shard');
    expect(history.windowMs).toBe(3_600_000);
    const [samples] = Object.values(history.shards);
    // the fake worker reports lagBytes 34, lagMs 12, 250 ops/s
    expect(samples.at(-1)).toMatchObject({ lagBytes: 34, lagMs: 12, opsPerSecond: 250 });
    expect(samples.map((sample) => sample.at)).toEqual([...samples.map((sample) => sample.at)].sort());

    const newest = samples.at(-1)!.at;
    const later = await call(coordinator.url, `/v1/plans/${planId}/history?since=${newest}`, {
      headers: auth,
    });
    for (const rest of Object.values((later.body as HistoryAnswer).shards)) {
      expect(rest.every((sample) => sample.at > newest)).toBe(true);
    }
  });

  it('refuses a since that is not unix ms, and an unknown plan', async () => {
    const bad = await call(coordinator.url, `/v1/plans/${planId}/history?since=yesterday`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'QUERY_INVALID', errors: [{ field: 'since' }] });
    const unknown = await call(coordinator.url, '/v1/plans/no-such-plan/history', { headers: auth });
    expect(unknown.status).toBe(404);
  });
});
