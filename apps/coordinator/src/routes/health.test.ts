import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { keys } from '@shardbridge/plan';
import type { RunningCoordinator } from '../start-coordinator.js';
import { call, startApp } from '../test-support/harness.js';

let queueRedis: RedisServer;
let coordinator: RunningCoordinator;

beforeAll(async () => {
  queueRedis = await startRedis();
  coordinator = await startApp(queueRedis);
});

afterAll(async () => {
  await coordinator?.close();
  await queueRedis?.stop();
});

describe('probes, metrics and the API description', () => {
  it('serves an OpenAPI 3.1 document of every route', async () => {
    const answer = await call(coordinator.url, '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    expect(Object.keys(answer.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/plans',
        '/v1/discover',
        '/v1/plans/{id}',
        '/v1/plans/{id}/stop',
        '/v1/plans/{id}/resume',
        '/v1/plans/{id}/shards/{shard}/retry',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    // Every $ref points at a schema that exists.
    const refs = [...answer.text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (match) => match[1],
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(answer.body.components.schemas[ref]).toBeDefined();
  });

  it('reports queue depth and workers on /metrics', async () => {
    await queueRedis
      .client()
      .hset(keys.workers(), 'w1', JSON.stringify({ host: 'h', pid: 1, concurrency: 2 }));
    const answer = await call(coordinator.url, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(answer.text).toContain('shardbridge_workers 1');
    expect(answer.text).toContain('shardbridge_queue_jobs{state="waiting"} 0');
    expect(answer.text).toContain('# TYPE shardbridge_shard_lag_bytes gauge');
    await call(coordinator.url, '/v1/plans/nothere');
    const after = await call(coordinator.url, '/metrics');
    expect(after.text).toContain('shardbridge_api_errors_total{code="PLAN_NOT_FOUND",status="404"} 1');
  });

  it('is live and ready, then not ready while the queue Redis is down, then ready again', async () => {
    expect((await call(coordinator.url, '/healthz')).status).toBe(200);
    expect((await call(coordinator.url, '/readyz')).status).toBe(200);
    await queueRedis.kill();
    const down = await call(coordinator.url, '/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'QUEUE_UNAVAILABLE', status: 503 });
    expect((await call(coordinator.url, '/healthz')).status).toBe(200);
    const failing = await call(coordinator.url, '/v1/plans');
    expect(failing.status).toBe(503);
    expect(failing.body.code).toBe('QUEUE_UNAVAILABLE');
    await queueRedis.restart();
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await call(coordinator.url, '/readyz')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
