import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { ShardJobData } from '@shardbridge/plan';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../apps/worker/src/checkpoint/memory-checkpoint-store.js';
import { ConsistencyMonitor } from '../apps/worker/src/consistency/consistency-monitor.js';
import { ShardSync } from '../apps/worker/src/shard-sync.js';
import { startQueueRedis } from './control-plane/support/cluster-data.js';
import { runCli } from './support/cli-process.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';
import { startBenchmark } from './support/sync-harness.js';

// Issue 17, item 2: the continuous consistency monitor finds a key changed directly on the target (and only that
// one) while writes run, and reports no mismatch on an undisturbed sync under redis-benchmark load.

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

describe('the continuous consistency monitor', () => {
  let source: RedisServer;
  let target: RedisServer;
  let sync: ShardSync;
  let running: Promise<void>;
  let monitor: ConsistencyMonitor;
  let load: { stop(): Promise<void> };

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const client = source.client();
    for (let i = 0; i < 1000; i++) await client.set(`k:${i}`, `value ${i}`);
    for (let i = 0; i < 50; i++) await client.hset(`h:${i}`, { a: String(i), b: 'x' });
    sync = new ShardSync({
      shardId: 'monitor-0',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      rttIntervalMs: 0,
    });
    running = sync.run();
    running.catch(() => undefined);
    await waitFor('the shard streaming', () => sync.progress.phase === 'incremental', 30_000);
    // A small key space (about 3,000 keys with ours), so that a whole pass of the monitor takes seconds.
    load = startBenchmark(source, 2000);
    const data: ShardJobData = {
      planId: 'monitor',
      planName: 'monitor',
      shardId: 'monitor-0',
      nodeId: null,
      slots: [[0, 16383]],
      announced: `${source.host}:${source.port}`,
      reachable: `${source.host}:${source.port}`,
      source: { tls: false },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`], tls: false },
      consistency: { enabled: true, keysPerSecond: 5000 },
    };
    monitor = new ConsistencyMonitor({
      data,
      logger,
      position: () => ({
        acknowledgedOffset: sync.progress.acknowledgedOffset,
        live: sync.progress.phase === 'incremental',
      }),
    });
    monitor.start();
  }, 120_000);

  afterAll(async () => {
    await monitor?.stop();
    await load?.stop();
    await sync?.stop();
    await running;
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('reports no mismatch over whole passes of an undisturbed sync under load', async () => {
    await waitFor('two whole passes', () => monitor.report.passes >= 2, 120_000);
    const report = monitor.report;
    expect(report.error).toBeUndefined();
    expect(report.checked).toBeGreaterThan(1000);
    expect(report.mismatches, JSON.stringify(report.listed)).toBe(0);
  }, 150_000);

  it('finds the one key changed directly on the target, within a minute, while writes run', async () => {
    await target.client().set('k:42', 'changed behind the sync');
    await waitFor('the mismatch', () => monitor.report.mismatches > 0, 60_000);
    const passes = monitor.report.passes;
    await waitFor('a whole pass after it', () => monitor.report.passes > passes + 1, 120_000);
    const report = monitor.report;
    expect(report.listed).toEqual([expect.objectContaining({ key: 'k:42', db: 0, kind: 'value' })]);
    expect(report.mismatches).toBe(1);
  }, 200_000);
});

describe('the consistency monitor of a plan, through the coordinator', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let plane: InProcessControlPlane;

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startRedis(), startRedis()]);
    const client = source.client();
    for (let i = 0; i < 300; i++) await client.set(`p:${i}`, `value ${i}`);
    plane = await startInProcessControlPlane(queue);
  });
  afterAll(async () => {
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('shows the confirmed mismatch in the plan, in status and in /metrics', async () => {
    const created = await postJson(`${plane.url}/v1/plans`, {
      name: 'monitored',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      consistency: { enabled: true, keysPerSecond: 1000 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const planId: string = created.body.id;
    type View = { shards: Array<{ phase: string; consistency?: { passes: number; mismatches: number } }> };
    await pollJson<View>(`${plane.url}/v1/plans/${planId}`, (plan) =>
      plan.shards.every((shard) => (shard.consistency?.passes ?? 0) >= 1),
    );
    await target.client().set('p:7', 'changed behind the sync');
    const view = await pollJson<View & { shards: Array<{ consistency: { listed: unknown[] } }> }>(
      `${plane.url}/v1/plans/${planId}`,
      (plan) => plan.shards.every((shard) => (shard.consistency?.mismatches ?? 0) > 0),
    );
    expect(view.shards[0].consistency.listed).toEqual([
      expect.objectContaining({ key: 'p:7', db: 0, kind: 'value' }),
    ]);
    const metrics = await (await fetch(`${plane.url}/metrics`)).text();
    expect(metrics).toContain(
      `shardbridge_shard_consistency_mismatches{plan="${planId}",shard="${planId}-0"} 1`,
    );
    const status = await runCli(['status', planId, '--api', plane.url]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('MISMATCH db 0 "p:7": value');
  });
});
