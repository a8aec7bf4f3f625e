import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../plan-validation.js';
import { formatPreflightReport } from './format-report.js';
import { preflightPlan } from './preflight-plan.js';

// Issue 13, item 4: a plan with caps makes its source buffer what they hold back; preflight says where Redis will
// drop the link, without refusing the plan.
describe('preflight: rate caps and the source replica output buffer (real redis-server)', () => {
  let source: RedisServer;
  let target: RedisServer;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    await source.client().config('SET', 'client-output-buffer-limit', 'replica 16mb 8mb 60');
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const plan = (caps?: unknown) =>
    parsePlan({
      name: 'caps',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      ...(caps ? { caps } : {}),
    });

  it('warns with the limit the source drops the replica at (the lower soft limit), and still passes', async () => {
    const report = await preflightPlan(plan({ bytesPerSecond: 1_000_000 }), { connectTimeoutMs: 5000 });
    expect(report.ok).toBe(true);
    expect(report.source.shards[0].replicaOutputBufferLimit).toBe(8 * 1024 * 1024);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings![0]).toMatchObject({ side: 'source', code: 'PREFLIGHT_CAPS_OUTPUT_BUFFER' });
    expect(report.warnings![0].message).toContain('8.0 MiB');
    expect(formatPreflightReport(report)).toMatch(/Warnings \(1\):[\s\S]*PREFLIGHT_CAPS_OUTPUT_BUFFER/);
  });

  it('says nothing about it for a plan without caps', async () => {
    const report = await preflightPlan(plan(), { connectTimeoutMs: 5000 });
    expect(report.ok).toBe(true);
    expect(report.warnings).toBeUndefined();
  });
});
