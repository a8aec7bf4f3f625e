import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '@shardbridge/plan';
import { startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import {
  clusterPlan,
  loadClusterData,
  startNatSourceCluster,
  startQueueRedis,
} from './control-plane/support/cluster-data.js';
import { ClusterRouter } from './control-plane/support/cluster-router.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';

// Issue 15, item 7: a cluster source into a standalone target that also holds db1/db2 of other plans. Verification
// compares the dbs the plan syncs (db 0): it used to SELECT 1 on the source cluster and fail.

describe('verification beside other plans’ dbs on the target', () => {
  let queue: RedisServer;
  let source: RedisCluster;
  let target: RedisServer;
  let router: ClusterRouter;
  let plane: InProcessControlPlane;

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startNatSourceCluster(), startRedis()]);
    router = await ClusterRouter.open(source);
    await loadClusterData(router, 20);
    const other = target.client();
    for (const db of [1, 2]) {
      await other.select(db);
      for (let i = 0; i < 30; i++) await other.set(`other-plan:${db}:${i}`, 'not from this source');
    }
    plane = await startInProcessControlPlane(queue, { concurrency: 4 });
  });

  afterAll(async () => {
    router?.disconnect();
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('verifies db 0 only, clean, at the count and full levels', async () => {
    const created = await postJson(
      `${plane.url}/v1/plans`,
      clusterPlan('beside-other-dbs', source, { type: 'standalone', server: target }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const planId: string = created.body.id;
    await pollJson<{ shards: Array<{ phase: string; lagBytes: number | null }> }>(
      `${plane.url}/v1/plans/${planId}`,
      (plan) => plan.shards.every((shard) => shard.phase === 'incremental' && shard.lagBytes === 0),
    );
    for (const level of ['count', 'full']) {
      const started = await postJson(`${plane.url}/v1/plans/${planId}/verify`, { level, roundDelayMs: 200 });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const report = await pollJson<VerificationReport>(
        `${plane.url}/v1/plans/${planId}/verification`,
        (view) => view.id === started.body.id && view.status !== 'running',
      );
      expect(report.status, `${level}: ${JSON.stringify(report).slice(0, 2000)}`).toBe('clean');
    }
    // The other plans' dbs are untouched.
    const other = target.client();
    await other.select(1);
    expect(await other.dbsize()).toBe(30);
  });
});
