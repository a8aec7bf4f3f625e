import fc from 'fast-check';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import type { ShardJobData } from '@shardbridge/plan';
import { parseSubmittedPlan } from '../plan-submission.js';
import type { RunningCoordinator } from '../start-coordinator.js';
import { call, queueOf, startApp } from '../test-support/harness.js';

/*
 * Property tests (fast-check) of the API against random malformed plans: every answer is a 4xx
 * application/problem+json with a code, and nothing reaches the queue. The plan's addresses are closed loopback
 * ports, so even a mutation that happens to stay valid is refused at discovery (422) and cannot enqueue. fast-check
 * prints the seed and path of a failing run; replay with `{ seed, path }` in PARAMS.
 */

/** Each run is an HTTP round trip: kept small for a loaded 2-core box; SB_FUZZ_RUNS asks for more. */
const PARAMS = { numRuns: Number(process.env.SB_FUZZ_RUNS ?? 200) };

let queueRedis: RedisServer;
let coordinator: RunningCoordinator;
let queue: Queue<ShardJobData>;

beforeAll(async () => {
  queueRedis = await startRedis();
  // No rate limit here: the properties send hundreds of requests from one address on purpose.
  coordinator = await startApp(queueRedis, { rateLimit: { limit: 0 } });
  queue = queueOf(queueRedis);
});

afterAll(async () => {
  await queue?.close();
  await coordinator?.close();
  await queueRedis?.stop();
});

function validPlan(): Record<string, unknown> {
  return {
    name: 'fuzzed',
    source: {
      type: 'cluster',
      seeds: ['127.0.0.1:1'],
      natRules: [{ match: '10.0.0.0/8', host: '127.0.0.1' }],
    },
    target: { type: 'standalone', seeds: ['127.0.0.1:2'] },
    rollout: { canary: 1, maxLagMs: 1000 },
  };
}

type Json = unknown;

/** Every path to a value inside `value` (object keys and array indexes), the root excluded. */
function pathsOf(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  }
  return [];
}

const PLAN_PATHS = pathsOf(validPlan());

type Mutation =
  | { kind: 'replace'; path: Array<string | number>; value: Json }
  | { kind: 'delete'; path: Array<string | number> }
  | { kind: 'extra'; path: Array<string | number>; key: string; value: Json };

type Container = Record<string | number, unknown>;
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** Applies `mutation` to a copy of `plan`; where an earlier mutation removed the path, the change lands at the root. */
function mutate(plan: Json, mutation: Mutation): Json {
  if (!isContainer(plan)) return plan;
  const copy = structuredClone(plan);
  const parentPath = mutation.kind === 'extra' ? mutation.path : mutation.path.slice(0, -1);
  let parent: Container = copy;
  for (const step of parentPath) {
    const next = parent[step];
    if (!isContainer(next)) {
      parent = copy;
      break;
    }
    parent = next;
  }
  if (mutation.kind === 'extra') {
    if (Array.isArray(parent)) parent.push(mutation.value);
    else parent[`x-${mutation.key}`] = mutation.value;
    return copy;
  }
  const last = mutation.path[mutation.path.length - 1];
  if (mutation.kind === 'delete') {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  } else {
    parent[last] = mutation.value;
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    path: fc.constantFrom(...PLAN_PATHS),
    value: fc.jsonValue({ maxDepth: 3 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...PLAN_PATHS) }),
  fc.record({
    kind: fc.constant('extra' as const),
    path: fc.constantFrom([], ...PLAN_PATHS),
    key: fc.string({ maxLength: 8 }),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
);

/** A request body: a mutated plan, any JSON, or text that is not JSON (cut or garbled). */
const malformedBody: fc.Arbitrary<{ raw: string; type: string }> = fc.oneof(
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => ({
    raw: JSON.stringify(mutations.reduce<Json>(mutate, validPlan())),
    type: 'application/json',
  })),
  fc
    .jsonValue({ maxDepth: 4 })
    .map((value) => ({ raw: JSON.stringify(value) ?? 'null', type: 'application/json' })),
  fc.nat().map((n) => {
    const text = JSON.stringify(validPlan());
    return { raw: text.slice(0, n % text.length), type: 'application/json' };
  }),
  fc.string({ maxLength: 200 }).map((raw) => ({ raw, type: 'application/json' })),
  fc
    .tuple(
      fc.string({ maxLength: 100 }),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml'),
    )
    .map(([raw, type]) => ({ raw: JSON.stringify(validPlan()) + raw, type })),
);

/** Whether the coordinator's own parsing refuses the body (a mutation may leave a plan valid). */
function refusedByParsing(raw: string): boolean {
  try {
    parseSubmittedPlan(JSON.parse(raw));
    return false;
  } catch {
    return true;
  }
}

async function totalJobs(): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

describe('API properties: malformed plans', () => {
  for (const path of ['/v1/plans', '/v1/discover']) {
    it(`POST ${path} answers a malformed body with a 4xx problem and enqueues nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(malformedBody, async ({ raw, type }) => {
          const answer = await call(coordinator.url, path, {
            method: 'POST',
            raw,
            headers: { 'content-type': type },
          });
          if (path === '/v1/discover' && type === 'application/json' && !refusedByParsing(raw)) {
            // Still a valid plan: its preflight report says the closed ports are unreachable.
            expect(answer.status, answer.text).toBe(200);
            expect(answer.body.ok).toBe(false);
            return;
          }
          expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
          expect(answer.status, answer.text).toBeLessThan(500);
          expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(answer.body.status).toBe(answer.status);
          expect(answer.body.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
          expect(typeof answer.body.detail).toBe('string');
        }),
        PARAMS,
      );
      expect(await totalJobs()).toBe(0);
      const plans = await call(coordinator.url, '/v1/plans');
      expect(plans.status).toBe(200);
      expect(JSON.stringify(plans.body)).not.toContain('fuzzed');
    });
  }
});
