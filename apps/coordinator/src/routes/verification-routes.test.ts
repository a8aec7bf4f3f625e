import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import type { RunningCoordinator } from '../start-coordinator.js';
import { call, standalonePlan, startApp } from '../test-support/harness.js';

// The request side of verification and cutover (no worker runs here: the e2e suites cover the runs).

let queueRedis: RedisServer;
let source: RedisServer;
let target: RedisServer;
let coordinator: RunningCoordinator;

beforeAll(async () => {
  [queueRedis, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  coordinator = await startApp(queueRedis);
});

afterAll(async () => {
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop()]);
});

describe('verification and cutover routes', () => {
  it('validates bodies, answers 404 before any report, 409 without a waiting cutover or on a stopped plan', async () => {
    const created = await call(coordinator.url, '/v1/plans', {
      body: standalonePlan(source, target, 'routes'),
    });
    expect(created.status, created.text).toBe(201);
    const id: string = created.body.id;

    const bad = await call(coordinator.url, `/v1/plans/${id}/verify`, {
      body: { level: 'everything', rounds: 0 },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body.errors.map((error: { field: string }) => error.field).sort()).toEqual([
      'level',
      'rounds',
    ]);
    expect(
      (await call(coordinator.url, `/v1/plans/${id}/cutover`, { body: { pauseSourc: true } })).status,
    ).toBe(400);

    const none = await call(coordinator.url, `/v1/plans/${id}/verification`);
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('VERIFICATION_NOT_FOUND');
    expect((await call(coordinator.url, `/v1/plans/${id}/cutover`)).body.code).toBe('CUTOVER_NOT_FOUND');
    expect((await call(coordinator.url, '/v1/plans/nosuchplan/verify', { body: {} })).status).toBe(404);

    const confirm = await call(coordinator.url, `/v1/plans/${id}/cutover/confirm`, { method: 'POST' });
    expect(confirm.status).toBe(409);
    expect(confirm.body.code).toBe('CUTOVER_NOT_WAITING');

    // A verification is queued and reported as running at once; a second one waits its turn.
    const started = await call(coordinator.url, `/v1/plans/${id}/verify`, {
      body: { level: 'count', timeoutMs: 1000 },
    });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/v1/plans/${id}/verification`);
    expect(started.body).toMatchObject({
      planId: id,
      status: 'running',
      settings: { level: 'count', rounds: 3 },
    });
    const busy = await call(coordinator.url, `/v1/plans/${id}/verify`, { body: {} });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('PLAN_BUSY');
    // No worker here: it ends failed at its timeout, naming the queue to check.
    const deadline = Date.now() + 30_000;
    let report = started.body;
    while (report.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      report = (await call(coordinator.url, `/v1/plans/${id}/verification`)).body;
    }
    expect(report.status).toBe('failed');
    expect(report.reason).toMatch(/did not finish within 1 s: check that a worker .* shardbridge-verify/);

    expect((await call(coordinator.url, `/v1/plans/${id}/stop`, { method: 'POST' })).status).toBe(202);
    const stopped = await call(coordinator.url, `/v1/plans/${id}/cutover`, { body: {} });
    expect(stopped.status).toBe(409);
    expect(stopped.body.code).toBe('PLAN_STOPPED');
  });
});
