import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { KeyDifference, VerificationReport } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { startQueueRedis } from './control-plane/support/cluster-data.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';
import { runCli } from './support/cli-process.js';
import { masterOffset, startIdempotentWrites } from './support/sync-harness.js';

// Issue 7, verification: differences injected into a synced target are all found and named; a live write load
// during verification produces none.

describe('verification of a synced plan', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let plane: InProcessControlPlane;
  let src: Redis;
  let tgt: Redis;
  let planId: string;
  const big = Buffer.alloc(10 * 1024 * 1024, 'b');

  const verify = async (body: Record<string, unknown>): Promise<VerificationReport> => {
    const started = await postJson(`${plane.url}/v1/plans/${planId}/verify`, body);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return pollJson<VerificationReport>(
      `${plane.url}/v1/plans/${planId}/verification`,
      (report) => report.id === started.body.id && report.status !== 'running',
    );
  };

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([
      startQueueRedis(),
      startRedis({ config: { 'repl-backlog-size': '64mb' } }),
      startRedis(),
    ]);
    src = source.client();
    tgt = target.client();
    for (let i = 0; i < 200; i++) {
      await src.set(`str:${i}`, `value-${i}`);
      await src.hset(`hash:${i}`, { a: String(i), b: 'x' });
      await src.rpush(`list:${i}`, 'a', 'b', String(i));
    }
    await src.set('ttl:key', 'v', 'PX', 3_600_000);
    await src.sadd('set:key', 'm1', 'm2');
    await src.zadd('zset:key', 1, 'a', 2, 'b');
    await src.rpush('big:list', 'first', big, 'last');
    await src.select(3);
    await src.set('db3:key', 'in db 3');
    await src.select(0);
    plane = await startInProcessControlPlane(queue);
    const created = await postJson(`${plane.url}/v1/plans`, {
      name: 'verify-e2e',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    planId = created.body.id;
    const goal = await masterOffset(source);
    await pollJson<{ shards: Array<{ phase: string; acknowledgedOffset: number }> }>(
      `${plane.url}/v1/plans/${planId}`,
      (plan) =>
        plan.shards.every((shard) => shard.phase === 'incremental' && shard.acknowledgedOffset >= goal),
    );
  });

  afterAll(async () => {
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('finds and names missing, extra, type, value and ttl differences, one in a 10 MB list element', async () => {
    const clean = await verify({ rounds: 1 });
    expect(clean.status, JSON.stringify(clean)).toBe('clean');
    expect(clean.totals.keysCompared).toBe(605);

    await tgt.del('str:1');
    await tgt.set('extra:key', 'only on the target');
    await tgt.del('str:2');
    await tgt.rpush('str:2', 'now a list');
    await tgt.hset('hash:3', 'b', 'changed');
    await tgt.pexpire('ttl:key', 60_000);
    const changed = Buffer.from(big);
    changed[7_000_000] = 'c'.charCodeAt(0);
    await tgt.lset('big:list', 1, changed);
    await tgt.select(3);
    await tgt.set('db3:key', 'changed in db 3');
    await tgt.select(0);

    const report = await verify({ rounds: 2, roundDelayMs: 300 });
    expect(report.status).toBe('differences');
    const found = (key: string) => report.differences.find((difference) => difference.key === key);
    expect(found('str:1')).toMatchObject({
      kind: 'missing',
      db: 0,
      source: { type: 'string' },
      target: { type: 'none' },
    });
    expect(found('extra:key')).toMatchObject({
      kind: 'extra',
      source: { type: 'none' },
      target: { type: 'string' },
    });
    expect(found('str:2')).toMatchObject({
      kind: 'type',
      source: { type: 'string' },
      target: { type: 'list' },
    });
    expect(found('hash:3')).toMatchObject({ kind: 'value', source: { type: 'hash' } });
    expect(found('ttl:key')?.kind).toBe('ttl');
    expect(found('big:list')).toMatchObject({ kind: 'value', detail: 'element 1 differs' });
    expect(found('db3:key')).toMatchObject({ kind: 'value', db: 3 });
    expect(report.totals).toMatchObject({ missing: 1, extra: 1, type: 1, value: 3, ttl: 1 });
    expect(report.differences.every((difference: KeyDifference) => difference.shard === `${planId}-0`)).toBe(
      true,
    );
    expect(report.shards[0].roundsRun).toBe(2);

    // The CLI: the same verification as a summary an operator reads, exit 1.
    const cli = await runCli(['verify', planId, '--api', plane.url, '--rounds', '1']);
    expect(cli.code, cli.stderr).toBe(1);
    expect(cli.stdout).toContain('DIFFERENCES FOUND');
    expect(cli.stdout).toMatch(/missing 1 +extra 1 +type 1 +value 3 +ttl 1/);
    expect(cli.stdout).toMatch(/value +db0 "big:list" .* element 1 differs/);

    // Bounded list, full totals; and the stored report is downloadable.
    const bounded = await verify({ rounds: 1, maxDifferences: 2 });
    expect(bounded.differences).toHaveLength(2);
    expect(bounded.truncated).toBe(true);
    expect(bounded.totals.value).toBe(3);
    const metrics = await (await fetch(`${plane.url}/metrics`)).text();
    expect(metrics).toContain(`shardbridge_verification_differences{plan="${planId}",kind="value"} 3`);
    const download = await fetch(`${plane.url}/v1/plans/${planId}/verification?download=1`);
    expect(download.headers.get('content-disposition')).toMatch(
      /^attachment; filename="?shardbridge-verification-/,
    );

    // Counts alone miss a missing key offset by an extra one (604 each in db 0): the reason for `full`.
    const counts = await verify({ level: 'count', rounds: 1 });
    expect(counts.shards[0].counts).toEqual([
      { db: 0, source: 604, target: 604 },
      { db: 3, source: 1, target: 1 },
    ]);
    await tgt.set('extra:two', '1');
    const counted = await verify({ level: 'count', rounds: 2, roundDelayMs: 100 });
    expect(counted.status).toBe('differences');
    expect(counted.shards[0].counts[0]).toEqual({ db: 0, source: 604, target: 605 });
    await tgt.del('extra:two');
    const sample = await verify({ level: 'sample', sampleSize: 5000, rounds: 1 });
    expect(sample.totals.value).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('reports no false difference under a live write load', async () => {
    // Repair the target: each injected key copied back from the source, the extra one deleted.
    for (const key of ['str:1', 'str:2', 'hash:3', 'ttl:key', 'big:list']) {
      const [dump, ttl] = await Promise.all([src.dumpBuffer(key), src.pttl(key)]);
      await tgt.restore(key, Math.max(0, ttl), dump!, 'REPLACE');
    }
    await tgt.del('extra:key');
    await tgt.select(3);
    await tgt.set('db3:key', 'in db 3');
    await tgt.select(0);

    const writes = startIdempotentWrites(source.client());
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const report = await verify({ rounds: 3, roundDelayMs: 1000 });
      expect(report.status, JSON.stringify(report.differences.slice(0, 5))).toBe('clean');
      expect(report.totals.keysCompared).toBeGreaterThan(600);
    } finally {
      expect(await writes.stop()).toBeGreaterThan(10);
    }
  }, 180_000);

  it('cutover: waits for the operator, times out with a reason, and refuses to cut over a differing target', async () => {
    const cutover = (body: Record<string, unknown>) =>
      postJson(`${plane.url}/v1/plans/${planId}/cutover`, body);
    const final = () =>
      pollJson<{ status: string; reason?: string; steps: Array<{ step: string }> }>(
        `${plane.url}/v1/plans/${planId}/cutover`,
        (view) => view.status === 'cut-over' || view.status === 'failed',
      );

    // No confirmation within the timeout: a clear reason, nothing stopped.
    expect((await cutover({ confirmTimeoutMs: 1000 })).status).toBe(202);
    const unconfirmed = await final();
    expect(unconfirmed.status).toBe('failed');
    expect(unconfirmed.reason).toMatch(
      /^waiting-for-confirmation: no confirmation that writes to the source stopped/,
    );
    expect((await postJson(`${plane.url}/v1/plans/${planId}/cutover/confirm`)).status).toBe(409);

    // A difference on the target: the cutover fails at verification and the sync keeps running.
    await tgt.set('str:7', 'tampered');
    expect((await cutover({})).status).toBe(202);
    await pollJson<{ status: string }>(
      `${plane.url}/v1/plans/${planId}/cutover`,
      (view) => view.status === 'waiting-for-confirmation',
    );
    expect((await postJson(`${plane.url}/v1/plans/${planId}/cutover/confirm`)).status).toBe(202);
    const refused = await final();
    expect(refused.status).toBe('failed');
    expect(refused.reason).toMatch(
      /^verifying: verification found differences \(missing 0, extra 0, type 0, value 1/,
    );
    const plan = await pollJson<{ state: string; shards: Array<{ phase: string }> }>(
      `${plane.url}/v1/plans/${planId}`,
      () => true,
    );
    expect(plan.state).toBe('active');
    expect(plan.shards[0].phase).toBe('incremental');

    // Repaired: the operator says writes stopped up front (through the CLI); the plan is cut over.
    await tgt.set('str:7', 'value-7');
    const cli = await runCli(['cutover', planId, '--api', plane.url, '--writes-stopped']);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(cli.stdout).toMatch(/^cutover \w+ of plan \w+: CUT OVER/);
    expect(cli.stdout).toMatch(/verification \w+: clean/);
    const done = await final();
    expect(done.status, done.reason).toBe('cut-over');
    expect(done.steps.map((step) => step.step)).toEqual(['catching-up', 'verifying', 'stopping']);
    expect((await cutover({})).status).toBe(409);
  }, 180_000);
});
