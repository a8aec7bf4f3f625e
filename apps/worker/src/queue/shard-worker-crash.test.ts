import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { keys, SHARD_QUEUE, type ShardJobData, type ShardJobProgress } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { ShardWorker } from './shard-worker.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TSC = fileURLToPath(new URL('../../../../node_modules/typescript/bin/tsc', import.meta.url));

/** A worker in its own process (the built package), so it can be killed with SIGKILL like a lost host. */
const CHILD_WORKER = `
import { pino } from 'pino';
import { ShardWorker } from '@shardbridge/worker';
const worker = new ShardWorker({
  connection: process.env.QUEUE_URL,
  workerId: 'child',
  logger: pino({ level: 'silent' }),
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
  progressIntervalMs: 200,
});
await worker.start();
process.stdout.write('ready\\n');
`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('ShardWorker across processes', () => {
  let queueRedis: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let queue: Queue<ShardJobData>;
  let admin: Redis;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    // The child runs the built package: build it (incremental, cheap when up to date) so it is never stale.
    execFileSync(process.execPath, [TSC, '-b', 'apps/worker'], { cwd: ROOT, stdio: 'pipe' });
    [queueRedis, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    queue = new Queue<ShardJobData>(SHARD_QUEUE, { connection: { url: queueRedis.url } });
    admin = queueRedis.client();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await queue?.close();
    await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop()]);
  });

  it('resumes a kill -9ed worker’s shard on another worker with +CONTINUE once the lock lapses', async () => {
    const shardId = 'crash-0';
    const address = `${source.host}:${source.port}`;
    await queue.add(
      'shard',
      {
        planId: 'crash',
        planName: 'crash',
        shardId,
        nodeId: null,
        slots: [[0, 16383]],
        announced: address,
        reachable: address,
        source: { tls: false },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`], tls: false },
      },
      { jobId: shardId },
    );
    child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_WORKER], {
      cwd: ROOT,
      env: { ...process.env, QUEUE_URL: queueRedis.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sourceClient = source.client();
    const targetClient = target.client();
    await sourceClient.set('k:1', 'one');
    await waitFor('k:1 through the child worker', async () => (await targetClient.get('k:1')) === 'one');
    await waitFor('a checkpoint', async () => (await admin.exists(keys.checkpoint(shardId))) === 1);
    const stats = async () => {
      const info = await source.info('stats');
      return { full: Number(info.sync_full), partial: Number(info.sync_partial_ok) };
    };
    const before = await stats();

    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    await sourceClient.set('k:2', 'two');
    const survivor = new ShardWorker({
      connection: queueRedis.url,
      workerId: 'survivor',
      logger: pino({ level: 'silent' }),
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      progressIntervalMs: 200,
    });
    await survivor.start();
    try {
      await waitFor('k:2 through the survivor', async () => (await targetClient.get('k:2')) === 'two');
      const recoveryMs = Date.now() - killedAt;
      expect(await stats()).toEqual({ full: before.full, partial: before.partial + 1 });
      const job = await queue.getJob(shardId);
      expect(job?.stalledCounter).toBe(1);
      await waitFor('progress from the survivor', async () => {
        const progress = (await queue.getJob(shardId))?.progress as ShardJobProgress | undefined;
        return progress?.workerId === 'survivor';
      });
      // The killed worker's heartbeat stays behind, ageing: readers judge liveness by seenAt.
      expect(await admin.hexists(keys.workers(), 'child')).toBe(1);
      expect(recoveryMs).toBeLessThan(20_000);
      console.info(`kill -9 recovery: ${recoveryMs} ms (lockDurationMs 2000, stalledIntervalMs 1000)`);
    } finally {
      await survivor.stop();
    }
  });
});
