import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, captureLogger, standalonePlan, startApp } from './test-support/harness.js';

const TOKEN = 'tok-3f9a1c77e2b04d5e';

let queueRedis: RedisServer;
let redis: RedisServer;
let coordinator: RunningCoordinator;
let logLines: string[];

beforeAll(async () => {
  [queueRedis, redis] = await Promise.all([startRedis(), startRedis()]);
  const { logger, lines } = captureLogger();
  logLines = lines;
  coordinator = await startApp(queueRedis, { apiToken: TOKEN, logger });
});

afterAll(async () => {
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), redis?.stop()]);
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('with an API token', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', bearer('tok-wrong')],
    ['a longer token', bearer(`${TOKEN}x`)],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('answers 401 problem+json to a POST with %s', async (_title, headers) => {
    const answer = await call(coordinator.url, '/v1/plans', { body: standalonePlan(redis, redis), headers });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('guards reads, deletes and the UI too', async () => {
    expect((await call(coordinator.url, '/v1/plans')).status).toBe(401);
    expect((await call(coordinator.url, '/v1/plans/abc', { method: 'DELETE' })).status).toBe(401);
    expect((await call(coordinator.url, '/v1/discover', { body: standalonePlan(redis, redis) })).status).toBe(
      401,
    );
    expect((await call(coordinator.url, '/ui')).status).toBe(401);
    expect((await call(coordinator.url, '/ui/api/queues')).status).toBe(401);
    expect((await call(coordinator.url, '/ui?token=nope', { redirect: 'manual' })).status).toBe(401);
  });

  it('accepts the token', async () => {
    const created = await call(coordinator.url, '/v1/plans', {
      body: standalonePlan(redis, redis),
      headers: bearer(TOKEN),
    });
    expect(created.status, created.text).toBe(201);
    const read = await call(coordinator.url, `/v1/plans/${created.body.id}`, { headers: bearer(TOKEN) });
    expect(read.status).toBe(200);
    const ui = await call(coordinator.url, '/ui', { headers: bearer(TOKEN) });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('<html');
    expect(ui.headers.get('x-powered-by')).toBeNull();
    expect(ui.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    const script = /src="(static\/js\/[^"]+)"/.exec(ui.text)?.[1];
    expect(script).toBeDefined();
    expect((await call(coordinator.url, `/ui/${script}`, { headers: bearer(TOKEN) })).status).toBe(200);
    const queues = await call(coordinator.url, '/ui/api/queues', { headers: bearer(TOKEN) });
    expect(queues.status).toBe(200);
    expect(JSON.stringify(queues.body)).toContain('shardbridge-shards');
  });

  it('turns /ui?token= into an HttpOnly cookie and a redirect without the token', async () => {
    const visit = await call(coordinator.url, `/ui?token=${TOKEN}`, { redirect: 'manual' });
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe('/ui/');
    const cookie = visit.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sb_token=[0-9a-f]{64}; Path=\/ui; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0];
    const page = await call(coordinator.url, '/ui/', { headers: { cookie: session } });
    expect(page.status).toBe(200);
    const forged = await call(coordinator.url, '/ui/', { headers: { cookie: `sb_token=${'0'.repeat(64)}` } });
    expect(forged.status).toBe(401);
    // The cookie is for the UI only: the API still wants the header.
    expect((await call(coordinator.url, '/v1/plans', { headers: { cookie: session } })).status).toBe(401);
  });

  it('leaves probes, metrics and the API description open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect((await call(coordinator.url, path)).status).toBe(200);
    }
  });

  it('never logs the token', async () => {
    await call(coordinator.url, '/v1/plans', { headers: bearer(TOKEN) });
    await call(coordinator.url, `/ui?token=${TOKEN}`, { redirect: 'manual' });
    expect(logLines.length).toBeGreaterThan(0);
    const log = logLines.join('');
    expect(log).not.toContain(TOKEN);
    expect(log).toContain('[redacted]');
  });
});
