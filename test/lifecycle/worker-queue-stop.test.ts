import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { call, getPlan, waitForShards, type ShardView } from '../control-plane/support/api.js';
import { startQueueRedis } from '../control-plane/support/cluster-data.js';
import {
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
  type WorkerProcess,
} from '../control-plane/support/processes.js';
import { startIdempotentWrites } from '../support/sync-harness.js';

// Issue 15, item 5: a worker and the coordinator exit within the bound they document after SIGTERM, also with the
// queue Redis gone; the queue Redis killed and restarted under running workers; the data ends equal.

const SHUTDOWN_MS = 6000;
/** Margin for a loaded 2-core machine: the assertion is "bounded", not "fast". */
const MARGIN_MS = 15_000;
const WORKER_ARGS = [
  '--lock-duration',
  '3000',
  '--stalled-interval',
  '1000',
  '--shutdown-timeout',
  String(SHUTDOWN_MS),
];

describe('worker and coordinator: SIGTERM in bounded time, the queue Redis killed and restarted', () => {
  const processes = new ProcessGroup();
  const context = () => processes.output();
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let sourceClient: Redis;
  let targetClient: Redis;
  let coordinator: CoordinatorProcess;
  const workers: WorkerProcess[] = [];
  let planId: string;

  const addWorker = async () => {
    const worker = processes.add(await startWorkerProcess(queue, { concurrency: 1, args: WORKER_ARGS }));
    workers.push(worker);
    return worker;
  };
  const shard = async (): Promise<ShardView> => (await getPlan(coordinator.url, planId)).shards[0];
  const runningOn = (workerId: string | null) => workers.find((worker) => worker.workerId === workerId)!;
  const stopWith = async (cli: WorkerProcess['cli'], signal: NodeJS.Signals) => {
    const sentAt = Date.now();
    cli.child.kill(signal);
    const code = await cli.exited;
    return { code, tookMs: Date.now() - sentAt };
  };
  /** Equal data once the shard caught up: compared again until it holds (the stream is still arriving). */
  const expectEqualSoon = async () => {
    let last: unknown;
    await waitFor(
      'target equal to the source',
      async () =>
        assertSameContents(sourceClient, targetClient).then(
          () => true,
          (error: unknown) => ((last = error), false),
        ),
      30_000,
    ).catch(() => {
      throw last;
    });
  };

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startRedis(), startRedis()]);
    sourceClient = source.client();
    targetClient = target.client();
    const pipeline = sourceClient.pipeline();
    for (let i = 0; i < 2000; i++) pipeline.set(`k:${i}`, String(i));
    await pipeline.exec();
    coordinator = processes.add(
      await startCoordinatorProcess(queue, { args: ['--shutdown-timeout', String(SHUTDOWN_MS)] }),
    );
    await Promise.all([addWorker(), addWorker()]);
    const created = await call(coordinator.url, '/v1/plans', {
      body: {
        name: 'lifecycle-workers',
        source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      },
    });
    expect(created.status, created.text).toBe(201);
    planId = created.body.id;
    await waitForShards(
      coordinator.url,
      planId,
      'the shard streaming',
      (s) => s[0]?.phase === 'incremental',
      {
        context,
      },
    );
  }, 120_000);

  afterAll(async () => {
    await processes.killAll();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('SIGTERM of the worker running the shard: exits 0 within its bound, another worker resumes it', async () => {
    const writes = startIdempotentWrites(sourceClient);
    try {
      const before = await shard();
      const owner = runningOn(before.workerId);
      const { code, tookMs } = await stopWith(owner.cli, 'SIGTERM');
      expect(code, owner.cli.stdout()).toBe(0);
      expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
      expect(owner.cli.stderr()).toContain('send SIGTERM again to exit at once');
      expect(owner.cli.stdout()).toMatch(/shard handed back to the queue/);
      await waitForShards(
        coordinator.url,
        planId,
        'the shard resumed on the other worker',
        (s) => s[0].phase === 'incremental' && s[0].workerId !== before.workerId,
        { context },
      );
      await addWorker();
    } finally {
      await writes.stop();
    }
    await expectEqualSoon();
  }, 90_000);

  it('queue Redis killed: the shard keeps streaming, a SIGTERMed worker still exits within its bound; after the restart the shard runs on', async () => {
    const owner = runningOn((await shard()).workerId);
    await queue.kill();
    const writes = startIdempotentWrites(sourceClient);
    try {
      await sourceClient.set('during-queue-outage', '1');
      await waitFor(
        'a write made during the outage on the target',
        async () => (await targetClient.get('during-queue-outage')) === '1',
      );
      const { tookMs } = await stopWith(owner.cli, 'SIGTERM');
      expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
      await queue.restart();
      await waitForShards(
        coordinator.url,
        planId,
        'the shard running again after the queue restart',
        (s) => s[0].phase === 'incremental' && s[0].workerId !== owner.workerId,
        { context, timeoutMs: 60_000 },
      );
    } finally {
      await writes.stop();
    }
    await expectEqualSoon();
  }, 120_000);

  it('SIGTERM of the coordinator: exits 0 within its bound; restarted, it serves the running plan', async () => {
    const { code, tookMs } = await stopWith(coordinator.cli, 'SIGTERM');
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
    coordinator = processes.add(
      await startCoordinatorProcess(queue, {
        port: coordinator.port,
        args: ['--shutdown-timeout', String(SHUTDOWN_MS)],
      }),
    );
    await sourceClient.set('after-coordinator-restart', '1');
    await waitForShards(
      coordinator.url,
      planId,
      'the shard still streaming',
      (s) => s[0].phase === 'incremental',
      {
        context,
      },
    );
    await expectEqualSoon();
  }, 90_000);
});
