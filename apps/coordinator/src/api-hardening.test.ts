import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, startRedis, type RedisServer, type TestPki } from '@shardbridge/testkit';
import type { ShardJobData } from '@shardbridge/plan';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, queueOf, standalonePlan, startApp } from './test-support/harness.js';

let queueRedis: RedisServer;
let source: RedisServer;
let pki: TestPki;
let queue: Queue<ShardJobData>;

beforeAll(async () => {
  [queueRedis, source, pki] = await Promise.all([startRedis(), startRedis(), createTestPki()]);
  queue = queueOf(queueRedis);
});

afterAll(async () => {
  await queue?.close();
  await Promise.all([queueRedis?.stop(), source?.stop(), pki?.remove()]);
});

async function totalJobs(): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** One HTTPS request with explicit TLS settings (fetch cannot take a CA or a client certificate). */
function httpsGet(url: string, tls: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('rate limit on mutating requests', () => {
  let coordinator: RunningCoordinator;
  beforeAll(async () => {
    coordinator = await startApp(queueRedis, { rateLimit: { limit: 3, windowMs: 60_000 } });
  });
  afterAll(() => coordinator?.close());

  it('answers 429 problem+json with Retry-After beyond the budget, and keeps reads open', async () => {
    for (let i = 0; i < 3; i++) {
      const refused = await call(coordinator.url, '/v1/plans', { body: { name: 'no source' } });
      expect(refused.status, refused.text).toBe(400);
    }
    const before = await totalJobs();
    const limited = await call(coordinator.url, '/v1/plans', {
      body: standalonePlan(source, source, 'limited'),
    });
    expect(limited.status, limited.text).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', title: 'Too many requests' });
    expect(limited.body.detail).toMatch(/--rate-limit/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await totalJobs()).toBe(before);

    const deleted = await call(coordinator.url, '/v1/plans/nope', { method: 'DELETE' });
    expect(deleted.status).toBe(429);
    const discover = await call(coordinator.url, '/v1/discover', { body: standalonePlan(source, source) });
    expect(discover.status).toBe(429);
    // Reads are not budgeted: dashboards and `status --watch` poll them.
    for (let i = 0; i < 5; i++) expect((await call(coordinator.url, '/v1/plans')).status).toBe(200);
    expect((await call(coordinator.url, '/healthz')).status).toBe(200);
  });
});

describe('rate limit turned off', () => {
  let coordinator: RunningCoordinator;
  beforeAll(async () => {
    coordinator = await startApp(queueRedis, { rateLimit: { limit: 0 } });
  });
  afterAll(() => coordinator?.close());

  it('never answers 429', async () => {
    for (let i = 0; i < 30; i++) {
      expect((await call(coordinator.url, '/v1/plans', { body: { name: 'x' } })).status).toBe(400);
    }
  });
});

describe('request body limit', () => {
  let coordinator: RunningCoordinator;
  beforeAll(async () => {
    coordinator = await startApp(queueRedis, { bodyLimitBytes: 2048 });
  });
  afterAll(() => coordinator?.close());

  it('answers 413 problem+json naming the limit, before parsing, and enqueues nothing', async () => {
    const before = await totalJobs();
    for (const path of ['/v1/plans', '/v1/discover']) {
      const plan = { ...standalonePlan(source, source, 'padded'), pad: 'x'.repeat(4096) };
      const answer = await call(coordinator.url, path, { body: plan });
      expect(answer.status, answer.text).toBe(413);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
      expect(answer.body.detail).toMatch(/2048 bytes/);
    }
    expect(await totalJobs()).toBe(before);
    const fits = await call(coordinator.url, '/v1/plans', { body: standalonePlan(source, source, 'fits') });
    expect(fits.status, fits.text).toBe(201);
  });
});

describe('HTTPS', () => {
  let coordinator: RunningCoordinator;
  beforeAll(async () => {
    coordinator = await startApp(queueRedis, { tls: { cert: pki.serverCert, key: pki.serverKey } });
  });
  afterAll(() => coordinator?.close());

  it('serves the API over TLS to a client that trusts its CA', async () => {
    expect(coordinator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await httpsGet(`${coordinator.url}/v1/plans`, { ca: pki.ca });
    expect(answer.status).toBe(200);
    await expect(httpsGet(`${coordinator.url}/v1/plans`, {})).rejects.toThrow(/self.signed|certificate/i);
  });
});

describe('mutual TLS', () => {
  let coordinator: RunningCoordinator;
  beforeAll(async () => {
    coordinator = await startApp(queueRedis, {
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca },
      apiToken: 'tok-mtls',
    });
  });
  afterAll(() => coordinator?.close());

  it('serves a client with a certificate from the client CA (the token is still required)', async () => {
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    expect((await httpsGet(`${coordinator.url}/healthz`, tls)).status).toBe(200);
    expect((await httpsGet(`${coordinator.url}/v1/plans`, tls)).status).toBe(401);
    const authorised = await httpsGet(`${coordinator.url}/v1/plans`, {
      ...tls,
      headers: { authorization: 'Bearer tok-mtls' },
    });
    expect(authorised.status).toBe(200);
  });

  it('refuses a client without a certificate, or with one from another CA, at the handshake', async () => {
    await expect(httpsGet(`${coordinator.url}/healthz`, { ca: pki.ca })).rejects.toThrow();
    const other = await createTestPki();
    try {
      await expect(
        httpsGet(`${coordinator.url}/healthz`, { ca: pki.ca, cert: other.clientCert, key: other.clientKey }),
      ).rejects.toThrow();
    } finally {
      await other.remove();
    }
  });
});
