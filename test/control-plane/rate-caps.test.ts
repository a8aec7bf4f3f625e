import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { runCli } from '../support/cli-process.js';
import { pollJson, postJson, startInProcessControlPlane } from '../support/in-process-control-plane.js';
import type { InProcessControlPlane } from '../support/in-process-control-plane.js';

// Issue 13, item 4 through the control plane: a plan submitted with a cap is held to it, the cap changes live
// through the API (PUT /v1/plans/:id/caps, here from `shardbridge caps`) without a resync, and status and /metrics
// show the caps and the throttling. Rates are upper bounds measured over at least 3 s (see measureRate).

const TOLERANCE = 1.1;

/** Rate of `read()` over at least `seconds`, counted from before the first read to after the last one. */
async function measureRate(read: () => Promise<number>, seconds: number): Promise<number> {
  const startedAt = Date.now();
  const first = await read();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const last = await read();
  return ((last - first) * 1000) / (Date.now() - startedAt);
}

interface ShardView {
  id: string;
  phase: string;
  rateCap?: { opsPerSecond: number | null; bytesPerSecond: number | null; throttled: boolean };
}
interface PlanView {
  caps: Record<string, unknown>;
  shards: ShardView[];
}

describe('rate caps through the API and the CLI (real redis-server)', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let plane: InProcessControlPlane;

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    plane = await startInProcessControlPlane(queue);
  });
  afterAll(async () => {
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('holds a plan to its cap, changes it live without a resync, and shows it in status and metrics', async () => {
    const submitted = await postJson(`${plane.url}/v1/plans`, {
      name: 'capped',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      caps: { opsPerSecond: 1500 },
    });
    expect(submitted.status).toBe(201);
    const planId: string = submitted.body.id;
    const shardId: string = submitted.body.shards[0].id;
    const planUrl = `${plane.url}/v1/plans/${planId}`;
    await pollJson<PlanView>(planUrl, (plan) => plan.shards[0]?.phase === 'incremental');

    const sourceClient = source.client();
    const targetClient = target.client();
    const burst = sourceClient.pipeline();
    for (let i = 0; i < 20_000; i++) burst.set(`k:${i}`, 'v');
    await burst.exec();
    const throttled = await pollJson<PlanView>(
      planUrl,
      (plan) => plan.shards[0]?.rateCap?.throttled === true,
    );
    expect(throttled.caps).toEqual({ opsPerSecond: 1500 });
    expect(throttled.shards[0].rateCap).toMatchObject({ opsPerSecond: 1500, bytesPerSecond: null });
    const keys = () => targetClient.dbsize();
    expect(await measureRate(keys, 3)).toBeLessThanOrEqual(1500 * TOLERANCE);

    const lowered = await runCli(['caps', planId, '--api', plane.url, '--ops', '400']);
    expect(lowered.stderr).toBe('');
    expect(lowered.code).toBe(0);
    expect(lowered.stdout).toContain('400 ops/s for the plan');
    await pollJson<PlanView>(planUrl, (plan) => plan.shards[0]?.rateCap?.opsPerSecond === 400);
    await new Promise((resolve) => setTimeout(resolve, 300)); // what the writer held at the old cap lands
    expect(await measureRate(keys, 3)).toBeLessThanOrEqual(400 * TOLERANCE);

    const status = await runCli(['status', planId, '--api', plane.url]);
    expect(status.stdout).toContain('caps: 400 ops/s for the plan');
    expect(status.stdout, status.stdout).toMatch(/cap 400 ops\/s \(throttled\)/);
    const metrics = await (await fetch(`${plane.url}/metrics`)).text();
    const labels = `{plan="${planId}",shard="${shardId}"}`;
    expect(metrics).toContain(`shardbridge_shard_cap_ops_per_second${labels} 400`);
    expect(metrics).toContain(`shardbridge_shard_throttled${labels} 1`);
    // Redis's default replica limit: 256 MiB hard, 64 MiB soft (for 60 s), so the link drops at 64 MiB.
    expect(metrics).toContain(
      `shardbridge_shard_source_output_buffer_limit_bytes${labels} ${64 * 1024 * 1024}`,
    );
    expect(metrics).toMatch(
      new RegExp(`shardbridge_shard_throttled_seconds\\{[^}]*shard="${shardId}"\\} [1-9]`),
    );

    const refused = await fetch(`${planUrl}/caps`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ perShard: { 'not-a-shard': { opsPerSecond: 5 } } }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('PLAN_CAPS_SHARD_UNKNOWN');

    const cleared = await runCli(['caps', planId, '--api', plane.url, '--clear']);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('none (unlimited)');
    await waitFor('every key on the target', async () => (await keys()) === 20_000, 60_000);
    // The caps changed on the running link: one full sync, at the start.
    expect(Number((await source.info('stats')).sync_full)).toBe(1);
  }, 180_000);
});
