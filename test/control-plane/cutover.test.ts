import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '@shardbridge/plan';
import { startCluster, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from '../support/in-process-control-plane.js';
import {
  clusterPlan,
  loadClusterData,
  startClusterWrites,
  startNatSourceCluster,
  startQueueRedis,
} from './support/cluster-data.js';
import { ClusterRouter } from './support/cluster-router.js';

// Issue 7, cutover: a 3-shard NAT'd cluster source under a write load is cut over to a NAT'd cluster target in one
// call: writes paused, lag 0, full verification clean, report stored, jobs stopped, source unpaused.

interface CutoverView {
  id: string;
  status: string;
  reason?: string;
  writesStoppedBy?: string;
  steps: Array<{ step: string; startedAt: string; finishedAt?: string }>;
  shards: Array<{ shardId: string; masterOffset: number; acknowledgedOffset: number }>;
  keys?: number;
  verification?: { id: string; status: string };
  warnings: string[];
}

describe('cutover of a NAT cluster source', () => {
  let queue: RedisServer;
  let source: RedisCluster;
  let target: RedisCluster;
  let router: ClusterRouter;
  let plane: InProcessControlPlane;

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([
      startQueueRedis(),
      startNatSourceCluster(),
      startCluster({ masters: 3, announceHostnames: true }),
    ]);
    router = await ClusterRouter.open(source);
    await loadClusterData(router, 60);
    plane = await startInProcessControlPlane(queue, { concurrency: 4 });
  });

  afterAll(async () => {
    router?.disconnect();
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('pauses, catches up, verifies, stops the shards, reports and unpauses, under a write load', async () => {
    const created = await postJson(
      `${plane.url}/v1/plans`,
      clusterPlan('cutover-e2e', source, { type: 'cluster', cluster: target }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const planId: string = created.body.id;
    expect(created.body.shards).toHaveLength(3);
    const writes = startClusterWrites(router);
    let rounds = 0;
    try {
      await pollJson<{ shards: Array<{ phase: string }> }>(`${plane.url}/v1/plans/${planId}`, (plan) =>
        plan.shards.every((shard) => shard.phase === 'incremental'),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));

      // Verification under the live load, 3 shards in parallel through both NAT maps: nothing persists.
      const live = await postJson(`${plane.url}/v1/plans/${planId}/verify`, { roundDelayMs: 1000 });
      expect(live.status).toBe(202);
      const liveReport = await pollJson<VerificationReport>(
        `${plane.url}/v1/plans/${planId}/verification`,
        (view) => view.status !== 'running',
      );
      expect(liveReport.status, JSON.stringify(liveReport.differences.slice(0, 5))).toBe('clean');
      expect(liveReport.shards).toHaveLength(3);
      expect(liveReport.totals.keysCompared).toBeGreaterThan(300);
      expect(liveReport.totals.targetKeysChecked).toBeGreaterThan(300);

      const started = await postJson(`${plane.url}/v1/plans/${planId}/cutover`, {
        pauseSource: true,
        verify: { roundDelayMs: 500 },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      // A second cutover (or verification) of the same plan waits its turn.
      expect((await postJson(`${plane.url}/v1/plans/${planId}/verify`)).status).toBe(409);

      const report = await pollJson<CutoverView>(
        `${plane.url}/v1/plans/${planId}/cutover`,
        (view) => view.status === 'cut-over' || view.status === 'failed',
        180_000,
      );
      expect(report.status, report.reason).toBe('cut-over');
      expect(report.writesStoppedBy).toBe('client-pause');
      expect(report.steps.map((step) => step.step)).toEqual([
        'pausing',
        'catching-up',
        'verifying',
        'stopping',
      ]);
      expect(report.steps.every((step) => step.finishedAt)).toBe(true);
      expect(report.shards).toHaveLength(3);
      for (const shard of report.shards) {
        expect(shard.masterOffset).toBeGreaterThan(0);
        expect(shard.acknowledgedOffset).toBe(shard.masterOffset);
      }
      expect(report.verification?.status).toBe('clean');
      expect(report.keys).toBeGreaterThan(300);
      expect(report.warnings).toEqual([]);

      const verification = await pollJson<VerificationReport>(
        `${plane.url}/v1/plans/${planId}/verification`,
        () => true,
      );
      expect(verification).toMatchObject({ id: report.verification?.id, status: 'clean' });
      expect(verification.shards.map((shard) => shard.status)).toEqual(['clean', 'clean', 'clean']);

      const plan = await pollJson<{ state: string; shards: Array<{ phase: string; jobState: string }> }>(
        `${plane.url}/v1/plans/${planId}`,
        () => true,
      );
      expect(plan.state).toBe('cut-over');
      expect(plan.shards.map((shard) => shard.jobState)).toEqual(['completed', 'completed', 'completed']);

      // The source takes writes again: the load resumes and a fresh write answers at once.
      const before = await writes.stop().then((count) => (rounds = count));
      expect(before).toBeGreaterThan(10);
      for (let i = 0; i < 30; i++) {
        const key = `{after${i}}cutover`;
        const answered = await Promise.race([
          router.client(key).set(key, '1'),
          new Promise((resolve) => setTimeout(() => resolve('paused'), 5000)),
        ]);
        expect(answered).toBe('OK');
      }
    } finally {
      if (rounds === 0) await writes.stop();
    }
  }, 240_000);
});
