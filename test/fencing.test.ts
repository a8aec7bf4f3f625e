import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { startQueueRedis } from './control-plane/support/cluster-data.js';
import { startCli, type CliProcess } from './support/cli-process.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';
import { startCountingWrites } from './support/counting-writes.js';
import { masterOffset } from './support/sync-harness.js';

// Issue 14, fencing: a worker frozen with SIGSTOP past its job lock while another worker takes the shard over,
// then resumed with SIGCONT with batches in hand. The target refuses its batches (the new owner's fence epoch is
// higher), it notices, drops the shard and says why; the non-idempotent data ends exact (nothing applied twice).

interface ShardView {
  phase: string;
  workerId: string | null;
  acknowledgedOffset: number;
}

describe('fencing: a worker that lost its lock while frozen writes nothing more', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy;
  let plane: InProcessControlPlane;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([
      startQueueRedis(),
      startRedis({ config: { 'repl-backlog-size': '64mb' } }),
      startRedis(),
    ]);
    // The target answers 100 ms late each way: batches are always in flight or waiting when the worker freezes.
    proxy = await startFaultProxy({ host: target.host, port: target.port });
    proxy.setDelay(100);
    plane = await startInProcessControlPlane(queue, { workers: 0 });
  });

  afterAll(async () => {
    for (const worker of workers) {
      worker.child.kill('SIGCONT');
      worker.child.kill('SIGKILL');
    }
    await plane?.close();
    await proxy?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  /** A worker process and its id (a worker names itself `<host>-<pid>`). */
  const startWorker = async (): Promise<{ process: CliProcess; id: string }> => {
    const worker = startCli([
      'worker',
      '--queue',
      queue.url,
      '--concurrency',
      '1',
      '--lock-duration',
      '2000',
      '--stalled-interval',
      '1000',
    ]);
    workers.push(worker);
    await worker.waitFor(/worker ready/);
    return { process: worker, id: `${hostname()}-${worker.child.pid}` };
  };

  it('refuses the frozen owner’s batches after the hand-off; tokens and counter end exact', async () => {
    const { process: frozen, id: frozenId } = await startWorker();
    const created = await postJson(`${plane.url}/v1/plans`, {
      name: 'fenced',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${proxy.host}:${proxy.port}`], exactlyOnce: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const planUrl = `${plane.url}/v1/plans/${created.body.id}`;
    const shardOn = (workerId: string) =>
      pollJson<{ shards: ShardView[] }>(planUrl, (plan) =>
        plan.shards.every((shard) => shard.phase === 'incremental' && shard.workerId === workerId),
      );
    await shardOn(frozenId);

    const writes = startCountingWrites(source.client());
    let written = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      frozen.child.kill('SIGSTOP');
      const { id: takerId } = await startWorker();
      await shardOn(takerId);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      frozen.child.kill('SIGCONT');
      await frozen.waitFor(
        /lost the job lock|older owner of the shard|CHECKPOINT_FENCED|TARGET_FENCED/,
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      written = await writes.stop();
    }
    const goal = await masterOffset(source);
    await pollJson<{ shards: ShardView[] }>(planUrl, (plan) =>
      plan.shards.every((shard) => shard.acknowledgedOffset >= goal),
    );
    // ShardBridge's own keys aside, the target equals the source exactly: a batch applied twice would show.
    const shardId = `${created.body.id}-0`;
    const epoch = await target.client().get(`shardbridge:applied:${shardId}:epoch`);
    await target.client().del(`shardbridge:applied:${shardId}`, `shardbridge:applied:${shardId}:epoch`);
    expect(Number(await target.client().get('counter'))).toBe(written);
    await assertSameContents(source.client(), target.client());
    // The new owner's epoch is the one the target holds: the frozen worker's (1) stayed behind it.
    expect(Number(epoch)).toBe(2);
  }, 120_000);
});
