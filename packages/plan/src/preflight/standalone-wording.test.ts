import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { parsePlan } from '../plan-validation.js';
import { formatPreflightReport } from './format-report.js';
import { preflightPlan } from './preflight-plan.js';

// A standalone node is dialled as the plan's seeds give it: no cluster announces it, so no message or column may
// speak of its "announced address".

let source: RedisServer;

beforeAll(async () => {
  source = await startRedis();
});

afterAll(async () => {
  await source?.stop();
});

describe('preflight wording for standalone nodes', () => {
  it('an unreachable standalone target is named by its seed, not by an announced address', async () => {
    const seed = `127.0.0.1:${await freePort()}`;
    const report = await preflightPlan(
      parsePlan({
        name: 'wording',
        source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
        target: { type: 'standalone', seeds: [seed] },
      }),
      { connectTimeoutMs: 2_000 },
    );
    const problem = report.problems.find((item) => item.side === 'target');
    expect(problem?.code).toBe('PREFLIGHT_UNREACHABLE');
    expect(problem?.message).toContain(`target node ${seed}`);
    expect(problem?.message).toContain('at the address in target.seeds');
    const text = formatPreflightReport(report);
    expect(text).not.toMatch(/announced/);
    expect(text).toMatch(/Target \(standalone\)\n\s+node\s+slots\s+role\s+seed\s+reachable/);
  });
});
