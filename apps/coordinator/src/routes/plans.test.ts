import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { keys, type ShardJobData } from '@shardbridge/plan';
import type { RunningCoordinator } from '../start-coordinator.js';
import { call, queueOf, standalonePlan, startApp } from '../test-support/harness.js';

const SOURCE_PASSWORD = 's3cret-source-password';

let queueRedis: RedisServer;
let source: RedisServer;
let target: RedisServer;
let coordinator: RunningCoordinator;
let queue: Queue<ShardJobData>;

beforeAll(async () => {
  [queueRedis, source, target] = await Promise.all([
    startRedis(),
    startRedis({ password: SOURCE_PASSWORD }),
    startRedis(),
  ]);
  process.env.SB_TEST_SOURCE_PASSWORD = SOURCE_PASSWORD;
  coordinator = await startApp(queueRedis);
  queue = queueOf(queueRedis);
});

afterAll(async () => {
  await queue?.close();
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop()]);
});

function securedPlan(name = 'orders'): Record<string, unknown> {
  const plan = standalonePlan(source, target, name);
  return { ...plan, source: { ...(plan.source as object), password: 'env:SB_TEST_SOURCE_PASSWORD' } };
}

async function queuedJobs(): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

describe('POST /v1/plans', () => {
  it('plans a standalone source as one shard and queues its job with references only', async () => {
    const answer = await call(coordinator.url, '/v1/plans', { body: securedPlan() });
    expect(answer.status).toBe(201);
    const { id, name, shards } = answer.body;
    expect(id).toMatch(/^[a-z0-9]+$/);
    expect(name).toBe('orders');
    expect(answer.headers.get('location')).toBe(`/v1/plans/${id}`);
    const seed = `${source.host}:${source.port}`;
    expect(shards).toEqual([
      { id: `${id}-0`, slots: [[0, 16383]], announced: seed, reachable: seed, jobId: `${id}-0` },
    ]);

    const job = await queue.getJob(`${id}-0`);
    expect(job).toBeDefined();
    expect(await job!.getState()).toBe('waiting');
    expect(job!.opts).toMatchObject({ attempts: 1, removeOnComplete: false, removeOnFail: false });
    expect(job!.data).toEqual({
      planId: id,
      planName: 'orders',
      shardId: `${id}-0`,
      nodeId: null,
      slots: [[0, 16383]],
      announced: seed,
      reachable: seed,
      source: { tls: false, password: 'env:SB_TEST_SOURCE_PASSWORD' },
      target: { tls: false, type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    });

    const raw = queueRedis.client();
    const stored = await raw.hgetall(keys.plan(id));
    expect(stored.state).toBe('active');
    expect(await raw.get(keys.control(`${id}-0`))).toBe('run');
    expect(await raw.zscore(keys.plans(), id)).not.toBeNull();
    // Nowhere in the queue's Redis: neither the job hash nor the plan.
    for (const key of await raw.keys('*')) {
      const type = await raw.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await raw.hgetall(key))
          : type === 'string'
            ? await raw.get(key)
            : '';
      expect(dump).not.toContain(SOURCE_PASSWORD);
    }
  });

  it('lists the plan and shows its shard as queued', async () => {
    const created = await call(coordinator.url, '/v1/plans', { body: securedPlan('listed') });
    const id = created.body.id as string;
    const detail = await call(coordinator.url, `/v1/plans/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id, name: 'listed', state: 'active', phases: { queued: 1 } });
    expect(detail.body.shards[0]).toMatchObject({
      id: `${id}-0`,
      phase: 'queued',
      jobState: 'waiting',
      attempts: 0,
      workerId: null,
      lastError: null,
      rdbBytesDone: 0,
      sourceOffset: -1,
    });
    expect(JSON.stringify(detail.body)).not.toContain(SOURCE_PASSWORD);
    const list = await call(coordinator.url, '/v1/plans');
    expect(list.status).toBe(200);
    expect(list.body.plans).toContainEqual(
      expect.objectContaining({ id, name: 'listed', state: 'active', shardCount: 1, phases: { queued: 1 } }),
    );
  });

  it('answers 404 problem+json for an unknown plan or route', async () => {
    for (const path of ['/v1/plans/nosuchplan', '/v1/plans/NOT:valid', '/v2/nothing']) {
      const answer = await call(coordinator.url, path);
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body.status).toBe(404);
    }
  });
});

describe('rejected plans', () => {
  let before: number;
  beforeAll(async () => {
    before = await queuedJobs();
  });

  // Built before the servers exist (it.each tables are collected first); these plans never reach discovery.
  const valid = (): Record<string, unknown> => ({
    name: 'rejected',
    source: { type: 'standalone', seeds: ['127.0.0.1:1'], password: 'env:SB_TEST_SOURCE_PASSWORD' },
    target: { type: 'standalone', seeds: ['127.0.0.1:2'] },
  });
  const reachable = (patch: Record<string, unknown>) => ({
    ...securedPlan('rejected'),
    source: { ...(securedPlan().source as object), ...patch },
  });
  const withSource = (patch: Record<string, unknown>) => ({
    ...valid(),
    source: { ...(valid().source as object), ...patch },
  });
  const withTarget = (patch: Record<string, unknown>) => ({
    ...valid(),
    target: { ...(valid().target as object), ...patch },
  });
  const without = (field: string) =>
    Object.fromEntries(Object.entries(valid()).filter(([key]) => key !== field));

  const cases: Array<{
    title: string;
    body?: unknown;
    raw?: string;
    type?: string;
    status: number;
    field?: string;
    code?: string;
  }> = [
    { title: 'missing name', body: without('name'), status: 400, field: 'name' },
    { title: 'name of the wrong type', body: { ...valid(), name: 42 }, status: 400, field: 'name' },
    { title: 'name with a colon', body: { ...valid(), name: 'a:b' }, status: 400, field: 'name' },
    { title: 'missing source', body: without('source'), status: 400, field: 'source' },
    { title: 'missing target', body: without('target'), status: 400, field: 'target' },
    {
      title: 'unknown source type',
      body: withSource({ type: 'sentinel' }),
      status: 400,
      field: 'source.type',
    },
    { title: 'no seeds', body: withSource({ seeds: [] }), status: 400, field: 'source.seeds' },
    {
      title: 'seed without port',
      body: withSource({ seeds: ['localhost'] }),
      status: 400,
      field: 'source.seeds[0]',
    },
    {
      title: 'port out of range',
      body: withTarget({ seeds: ['h:70000'] }),
      status: 400,
      field: 'target.seeds[0]',
    },
    {
      title: 'two standalone seeds',
      body: withSource({ seeds: ['a:1', 'b:2'] }),
      status: 400,
      field: 'source.seeds',
    },
    { title: 'tls as a string', body: withTarget({ tls: 'yes' }), status: 400, field: 'target.tls' },
    {
      title: 'bad natMap value',
      body: withTarget({ natMap: { 'a:1': 'nope' } }),
      status: 400,
      field: 'target.natMap',
    },
    {
      title: 'literal source password',
      body: withSource({ password: 'hunter2' }),
      status: 400,
      field: 'source.password',
    },
    {
      title: 'literal target password',
      body: withTarget({ password: 'hunter2' }),
      status: 400,
      field: 'target.password',
    },
    {
      title: 'literal TLS private key',
      body: withTarget({ tls: { key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' } }),
      status: 400,
      field: 'target.tls.key',
    },
    {
      title: 'env reference without a name',
      body: withTarget({ password: 'env:' }),
      status: 400,
      field: 'target.password',
    },
    {
      title: 'relative file reference',
      body: withTarget({ password: 'file:pw.txt' }),
      status: 400,
      field: 'target.password',
    },
    { title: 'unknown top-level field', body: { ...valid(), priority: 1 }, status: 400, field: 'priority' },
    { title: 'unknown source field', body: withSource({ db: 3 }), status: 400, field: 'source' },
    { title: 'an array', body: [valid()], status: 400, field: '(plan)' },
    { title: 'not JSON', raw: '{"name": "x",', type: 'application/json', status: 400, code: 'BODY_NOT_JSON' },
    {
      title: 'a bare JSON string',
      raw: '"plan"',
      type: 'application/json',
      status: 400,
      code: 'BODY_NOT_JSON',
    },
    { title: 'no body at all', status: 400, code: 'BODY_MISSING', field: '(plan)' },
    { title: 'an empty JSON body', raw: '', type: 'application/json', status: 400, field: 'name' },
    {
      title: 'text instead of JSON',
      raw: 'name=x',
      type: 'text/plain',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      title: 'a huge body',
      raw: JSON.stringify({ ...valid(), pad: 'x'.repeat(300 * 1024) }),
      type: 'application/json',
      status: 413,
      code: 'BODY_TOO_LARGE',
    },
  ];

  it.each(cases)('$title → $status', async ({ body, raw, type, status, field, code }) => {
    const headers: Record<string, string> = type ? { 'content-type': type } : {};
    const answer = await call(coordinator.url, '/v1/plans', { method: 'POST', body, raw, headers });
    expect(answer.status, answer.text).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, instance: '/v1/plans' });
    expect(answer.body.type).toMatch(/^urn:shardbridge:problem:/);
    expect(typeof answer.body.title).toBe('string');
    expect(typeof answer.body.detail).toBe('string');
    if (code) expect(answer.body.code).toBe(code);
    if (field) {
      const fields = (answer.body.errors as Array<{ field: string }>).map((error) => error.field);
      expect(
        fields.some((name) => name === field || name.startsWith(`${field}.`) || name.startsWith(`${field}[`)),
      ).toBe(true);
    }
    expect(answer.text).not.toContain('hunter2');
    expect(answer.text).not.toMatch(/\bat .*\.ts:\d+/); // no stack
  });

  it('says why a literal password is refused', async () => {
    const answer = await call(coordinator.url, '/v1/plans', { body: withSource({ password: 'hunter2' }) });
    expect(answer.body.errors).toContainEqual({
      field: 'source.password',
      reason: expect.stringContaining('env:NAME or file:/path'),
    });
  });

  it('refuses an RDB-file source, saying where it runs instead', async () => {
    const plan = securedPlan('from-file');
    const answer = await call(coordinator.url, '/v1/plans', {
      body: { ...plan, source: { type: 'rdb', path: '/backups/dump.rdb' } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual({
      field: 'source.type',
      reason: expect.stringContaining('shardbridge run <plan>'),
    });
  });

  it('answers 422 PREFLIGHT_FAILED naming the source that does not answer', async () => {
    const port = await freePort();
    const answer = await call(coordinator.url, '/v1/plans', {
      body: { ...valid(), source: { type: 'standalone', seeds: [`127.0.0.1:${port}`] } },
    });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body.code).toBe('PREFLIGHT_FAILED');
    expect(answer.body.detail).toContain(`127.0.0.1:${port}`);
    const problem = (answer.body.problems as Array<Record<string, string>>).find(
      (entry) => entry.side === 'source',
    );
    expect(problem).toMatchObject({ address: `127.0.0.1:${port}`, code: expect.any(String) });
    expect(Object.keys(problem!).sort()).toEqual(['address', 'code', 'fix', 'message', 'side']);
  });

  it('answers 422 when the source password reference cannot be resolved here', async () => {
    const answer = await call(coordinator.url, '/v1/plans', {
      body: reachable({ password: 'env:SB_TEST_UNSET_VARIABLE' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('PREFLIGHT_FAILED');
    expect(answer.body.problems).toContainEqual(
      expect.objectContaining({ side: 'source', code: 'PLAN_SECRET_UNRESOLVED' }),
    );
  });

  it('answers 422 with an AUTH problem for a wrong source password', async () => {
    process.env.SB_TEST_WRONG_PASSWORD = 'wrong-password';
    const answer = await call(coordinator.url, '/v1/plans', {
      body: reachable({ password: 'env:SB_TEST_WRONG_PASSWORD' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('PREFLIGHT_FAILED');
    expect(answer.body.problems).toContainEqual(expect.objectContaining({ side: 'source' }));
    expect(answer.text).toMatch(/AUTH/);
    expect(answer.text).not.toContain('wrong-password');
  });

  it('queued nothing for any of them', async () => {
    expect(await queuedJobs()).toBe(before);
    const raw = queueRedis.client();
    const names = await Promise.all(
      (await raw.zrange(keys.plans(), 0, -1)).map((id) => raw.hget(keys.plan(id), 'plan')),
    );
    expect(names.filter((plan) => plan?.includes('"rejected"'))).toEqual([]);
  });
});
