import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { keys, SHARD_QUEUE, type ShardJobData, type ShardJobProgress } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { ShardControl } from './shard-control.js';
import { ShardWorker, type ShardWorkerOptions } from './shard-worker.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });
const TARGET_PASSWORD_ENV = 'SHARDBRIDGE_TEST_TARGET_PASSWORD';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('ShardWorker', () => {
  let queueRedis: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let queue: Queue<ShardJobData>;
  let admin: Redis;
  let sourceClient: Redis;
  let targetClient: Redis;
  const workers: ShardWorker[] = [];

  beforeAll(async () => {
    [queueRedis, source, target] = await Promise.all([
      startRedis({ config: { appendonly: 'yes' } }),
      startRedis(),
      startRedis({ password: 'target-secret' }),
    ]);
    queue = new Queue<ShardJobData>(SHARD_QUEUE, { connection: { url: queueRedis.url } });
    admin = queueRedis.client();
    sourceClient = source.client();
    targetClient = target.client();
    process.env[TARGET_PASSWORD_ENV] = 'target-secret';
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop({ handOff: true })));
    await queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await queue?.close();
    await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop()]);
  });

  function jobData(shardId: string): ShardJobData {
    const address = `${source.host}:${source.port}`;
    return {
      planId: 'plan1',
      planName: 'test',
      shardId,
      nodeId: null,
      slots: [[0, 16383]],
      announced: address,
      reachable: address,
      source: { tls: false },
      target: {
        type: 'standalone',
        seeds: [`${target.host}:${target.port}`],
        password: `env:${TARGET_PASSWORD_ENV}`,
        tls: false,
      },
    };
  }

  async function startWorker(overrides: Partial<ShardWorkerOptions> = {}): Promise<ShardWorker> {
    const worker = new ShardWorker({
      connection: queueRedis.url,
      logger,
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      progressIntervalMs: 200,
      controlPollIntervalMs: 500,
      heartbeatIntervalMs: 500,
      maxReconnectAttempts: 2,
      ...overrides,
    });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  async function syncStats(): Promise<{ full: number; partial: number }> {
    const stats = await source.info('stats');
    return { full: Number(stats.sync_full), partial: Number(stats.sync_partial_ok) };
  }

  async function progressOf(jobId: string): Promise<ShardJobProgress | undefined> {
    const job = await queue.getJob(jobId);
    const progress = job?.progress;
    return typeof progress === 'object' && progress !== null ? (progress as ShardJobProgress) : undefined;
  }

  async function targetHas(key: string, value: string): Promise<boolean> {
    return (await targetClient.get(key)) === value;
  }

  async function finished(jobId: string, state: 'completed' | 'failed'): Promise<Job<ShardJobData>> {
    // Read the state first and the job after it: BullMQ moves a job to its finished set and writes
    // failedReason in one script, so a job read after the state matches carries the final fields.
    return waitFor(`job ${jobId} ${state}`, async () => {
      if ((await queue.getJobState(jobId)) !== state) return undefined;
      return queue.getJob(jobId);
    });
  }

  it('syncs a shard, reports progress, stops on request and resumes with +CONTINUE on retry', async () => {
    const shardId = 'plan1-0';
    await sourceClient.mset('a:1', 'one', 'a:2', 'two');
    const before = await syncStats();
    const worker = await startWorker();
    await queue.add('shard', jobData(shardId), { jobId: shardId });

    await waitFor('the RDB keys on the target', () => targetHas('a:2', 'two'));
    await sourceClient.set('a:3', 'three');
    await waitFor('a streamed write on the target', () => targetHas('a:3', 'three'));
    const progress = await waitFor('incremental progress with offsets', async () => {
      const p = await progressOf(shardId);
      return p?.phase === 'incremental' && p.acknowledgedOffset > 0 && p.commandsApplied > 0 ? p : undefined;
    });
    expect(progress).toMatchObject({
      workerId: worker.workerId,
      fullSyncs: 1,
      keysWritten: 2,
      lastError: null,
    });
    expect(progress.replid).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.stringify(progress)).not.toContain('target-secret');
    expect(worker.runningShards).toEqual([shardId]);
    const heartbeat = JSON.parse((await admin.hget(keys.workers(), worker.workerId)) ?? 'null');
    expect(heartbeat).toMatchObject({ pid: process.pid, concurrency: 1 });

    await ShardControl.requestStop(admin, shardId);
    const completed = await finished(shardId, 'completed');
    expect(completed.returnvalue).toMatchObject({ stopped: true, workerId: worker.workerId });
    const checkpoint = await admin.hgetall(keys.checkpoint(shardId));
    expect(checkpoint.replid).toBe(progress.replid);
    expect(Number(checkpoint.offset)).toBe(completed.returnvalue.acknowledgedOffset);
    expect(Number(checkpoint.offset)).toBeGreaterThanOrEqual(progress.acknowledgedOffset);
    expect((await progressOf(shardId))?.phase).toBe('stopped');
    expect(await syncStats()).toEqual({ full: before.full + 1, partial: before.partial });

    // Written while nobody syncs: must arrive through the partial resync.
    await sourceClient.set('a:4', 'four');
    await ShardControl.requestRun(admin, shardId);
    await completed.retry('completed');
    await waitFor('the write made while stopped', () => targetHas('a:4', 'four'));
    expect(await syncStats()).toEqual({ full: before.full + 1, partial: before.partial + 1 });
    await waitFor('partialSyncs in progress', async () => (await progressOf(shardId))?.partialSyncs === 1);
  });

  it('completes at once a job whose shard is meant to be stopped', async () => {
    const shardId = 'plan1-1';
    await ShardControl.requestStop(admin, shardId);
    const before = await syncStats();
    await startWorker();
    await queue.add('shard', jobData(shardId), { jobId: shardId });
    const completed = await finished(shardId, 'completed');
    expect(completed.returnvalue).toMatchObject({ stopped: true, acknowledgedOffset: -1 });
    expect(await syncStats()).toEqual(before);
    await ShardControl.requestRun(admin, shardId);
  });

  it('hands a running shard to another worker on stop(), which resumes it with +CONTINUE', async () => {
    const shardId = 'plan1-2';
    const first = await startWorker({ workerId: 'first' });
    await queue.add('shard', jobData(shardId), { jobId: shardId });
    await sourceClient.set('b:1', 'one');
    await waitFor('b:1 on the target', () => targetHas('b:1', 'one'));
    await waitFor('a checkpoint', async () => (await admin.exists(keys.checkpoint(shardId))) === 1);
    const second = await startWorker({ workerId: 'second' });
    const before = await syncStats();

    const stoppedAt = Date.now();
    await first.stop({ handOff: true });
    expect(await admin.hexists(keys.workers(), 'first')).toBe(0);
    const job = await queue.getJob(shardId);
    expect(['delayed', 'waiting', 'active']).toContain(await job?.getState());
    await sourceClient.set('b:2', 'two');
    await waitFor('b:2 through the second worker', () => targetHas('b:2', 'two'));
    const handOffMs = Date.now() - stoppedAt;
    expect(second.runningShards).toEqual([shardId]);
    expect(await syncStats()).toEqual({ full: before.full, partial: before.partial + 1 });
    const progress = await waitFor('progress from the second worker', async () => {
      const p = await progressOf(shardId);
      return p?.workerId === 'second' && p.phase === 'incremental' ? p : undefined;
    });
    expect(progress.partialSyncs).toBe(1);
    expect(handOffMs).toBeLessThan(15_000); // generous: typically well under a second
    logger.info({ handOffMs }, 'hand-off');
  });

  it('leaves the job to the stalled check on stop({ handOff: false }); another worker then resumes it', async () => {
    const shardId = 'plan1-4';
    const first = await startWorker({ workerId: 'first' });
    await queue.add('shard', jobData(shardId), { jobId: shardId });
    await sourceClient.set('d:1', 'one');
    await waitFor('d:1 on the target', () => targetHas('d:1', 'one'));
    await first.stop({ handOff: false });
    expect(await (await queue.getJob(shardId))?.getState()).toBe('active');
    const before = await syncStats();

    const stoppedAt = Date.now();
    const second = await startWorker({ workerId: 'second' });
    await sourceClient.set('d:2', 'two');
    await waitFor('d:2 through the second worker', () => targetHas('d:2', 'two'));
    const recoveryMs = Date.now() - stoppedAt;
    expect(second.runningShards).toEqual([shardId]);
    expect(await syncStats()).toEqual({ full: before.full, partial: before.partial + 1 });
    // lockDurationMs 2000 + up to two stalled checks of 1000: recovered by the stall, not handed back.
    expect(recoveryMs).toBeGreaterThanOrEqual(1000);
    logger.info({ recoveryMs }, 'stall recovery');
  });

  it('stops a shard whose job lock was lost, without touching the checkpoint; the stalled check recovers it', async () => {
    const shardId = 'plan1-5';
    const worker = await startWorker();
    await queue.add('shard', jobData(shardId), { jobId: shardId });
    await sourceClient.set('e:1', 'one');
    await waitFor('e:1 on the target', () => targetHas('e:1', 'one'));
    await waitFor('a checkpoint', async () => (await admin.exists(keys.checkpoint(shardId))) === 1);
    const before = await syncStats();

    // As if this worker had been cut off longer than lockDurationMs and another worker had taken the job.
    await admin.set(`bull:${SHARD_QUEUE}:${shardId}:lock`, 'someone-else', 'PX', 1500);
    await waitFor('the shard to stop here', async () => worker.runningShards.length === 0);
    const checkpoint = await admin.hgetall(keys.checkpoint(shardId));
    await sourceClient.set('e:2', 'two');
    await sleep(300);
    expect(await admin.hgetall(keys.checkpoint(shardId))).toEqual(checkpoint);

    await waitFor('e:2 after the stalled check gave the job back', () => targetHas('e:2', 'two'));
    expect(await syncStats()).toEqual({ full: before.full, partial: before.partial + 1 });
    const job = await queue.getJob(shardId);
    expect(await job?.getState()).toBe('active');
    expect(job?.stalledCounter).toBe(1);
  });

  it('runs as many shards as its concurrency and hands them all back on stop()', async () => {
    const first = await startWorker({ workerId: 'first', concurrency: 2 });
    await queue.add('shard', jobData('plan1-6'), { jobId: 'plan1-6' });
    await queue.add('shard', jobData('plan1-7'), { jobId: 'plan1-7' });
    await waitFor('both shards incremental', async () => {
      const phases = await Promise.all(
        ['plan1-6', 'plan1-7'].map(async (id) => (await progressOf(id))?.phase),
      );
      return phases.every((phase) => phase === 'incremental');
    });
    expect(first.runningShards.sort()).toEqual(['plan1-6', 'plan1-7']);
    expect(JSON.parse((await admin.hget(keys.workers(), 'first')) ?? '{}').concurrency).toBe(2);
    await first.stop();
    for (const id of ['plan1-6', 'plan1-7']) {
      expect(await (await queue.getJob(id))?.getState()).toMatch(/^(delayed|waiting)$/);
      expect((await progressOf(id))?.phase).toBe('queued');
    }
    const second = await startWorker({ workerId: 'second', concurrency: 2 });
    await waitFor('both shards on the second worker', async () => second.runningShards.length === 2);
  });

  it('fails a job whose password reference cannot be resolved on this host, naming the variable', async () => {
    const shardId = 'plan1-8';
    await startWorker();
    const data = jobData(shardId);
    data.target.password = 'env:SHARDBRIDGE_TEST_UNSET_VARIABLE';
    await queue.add('shard', data, { jobId: shardId });
    const failed = await finished(shardId, 'failed');
    expect(failed.failedReason).toBe(
      `shard ${shardId}: target.password: environment variable SHARDBRIDGE_TEST_UNSET_VARIABLE is not set on this host`,
    );
  });

  it('fails a job whose target password is wrong, naming the target; a retry after the fix resumes', async () => {
    const shardId = 'plan1-3';
    await startWorker();
    await queue.add('shard', jobData(shardId), { jobId: shardId });
    await sourceClient.set('c:1', 'one');
    await waitFor('c:1 on the target', () => targetHas('c:1', 'one'));
    await ShardControl.requestStop(admin, shardId);
    const completed = await finished(shardId, 'completed');
    await ShardControl.requestRun(admin, shardId);

    process.env[TARGET_PASSWORD_ENV] = 'wrong-password';
    await completed.retry('completed');
    const failed = await finished(shardId, 'failed');
    expect(failed.failedReason).toContain(`shard ${shardId}`);
    expect(failed.failedReason).toContain(`${target.host}:${target.port}`);
    expect(failed.failedReason).not.toContain('wrong-password');
    expect(failed.failedReason).not.toContain('target-secret');
    expect((await progressOf(shardId))?.phase).toBe('failed');

    process.env[TARGET_PASSWORD_ENV] = 'target-secret';
    await sourceClient.set('c:2', 'two');
    const before = await syncStats();
    await failed.retry('failed');
    await waitFor('c:2 after the retry', () => targetHas('c:2', 'two'));
    expect(await syncStats()).toEqual({ full: before.full, partial: before.partial + 1 });
  });
});
