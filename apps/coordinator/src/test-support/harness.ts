/**
 * Shared by the coordinator's tests (excluded from the build): a coordinator on port 0 over a real queue Redis,
 * a fetch wrapper, plan builders and a small BullMQ worker standing in for the real shard worker.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { keys, SHARD_QUEUE, type ShardJobData, type ShardJobProgress } from '@shardbridge/plan';
import type { RedisServer } from '@shardbridge/testkit';
import {
  startCoordinator,
  type RunningCoordinator,
  type StartCoordinatorOptions,
} from '../start-coordinator.js';

export interface Answer {
  status: number;
  headers: Headers;
  /** parsed JSON when the answer is JSON, else the text */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function call(
  url: string,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    redirect?: RequestRedirect;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: init.redirect ?? 'follow',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: /json/.test(type) ? JSON.parse(text) : text,
  };
}

/** Log lines the coordinator wrote, for checks that secrets never reach them. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export async function startApp(
  queueRedis: RedisServer,
  options: Partial<StartCoordinatorOptions> = {},
): Promise<RunningCoordinator> {
  return startCoordinator({
    port: 0,
    queue: { host: queueRedis.host, port: queueRedis.port },
    logger: pino({ level: 'silent' }),
    connectTimeoutMs: 2_000,
    ...options,
  });
}

export function standalonePlan(
  source: RedisServer,
  target: RedisServer,
  name = 'orders',
): Record<string, unknown> {
  return {
    name,
    source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
  };
}

export function queueOf(queueRedis: RedisServer): Queue<ShardJobData> {
  return new Queue<ShardJobData>(SHARD_QUEUE, {
    connection: { host: queueRedis.host, port: queueRedis.port },
  });
}

/** What the fake worker does with a shard: run until its control says stop, or fail at once. */
export type FakeBehaviour = 'run' | 'fail';

/**
 * Stands in for apps/worker: reports progress like a real worker, honours the control key (polled: the key is the
 * truth, the channel only a hint) and completes when told to stop.
 */
export function fakeShardWorker(queueRedis: RedisServer, behaviour: Map<string, FakeBehaviour> = new Map()) {
  const connection = { host: queueRedis.host, port: queueRedis.port, maxRetriesPerRequest: null };
  const control = queueRedis.client();
  const worker = new Worker<ShardJobData>(
    SHARD_QUEUE,
    async (job: Job<ShardJobData>) => {
      const shardId = job.data.shardId;
      if (behaviour.get(shardId) === 'fail') throw new Error(`fake failure of ${shardId}`);
      const report: ShardJobProgress = {
        phase: 'incremental',
        workerId: 'fake-worker-1',
        replid: 'f'.repeat(40),
        rdbBytesDone: 4096,
        rdbBytesTotal: 4096,
        keysWritten: 17,
        commandsApplied: 5,
        sourceOffset: 1234,
        acknowledgedOffset: 1200,
        lagBytes: 34,
        lagMs: 12,
        opsPerSecond: 250,
        fullSyncs: 1,
        partialSyncs: 0,
        reconnects: 2,
        lastError: null,
        reportedAt: Date.now(),
      };
      await job.updateProgress(report);
      while ((await control.get(keys.control(shardId))) !== 'stop') {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await job.updateProgress({ ...report, phase: 'stopped', reportedAt: Date.now() });
      return { stopped: true };
    },
    { connection, concurrency: 8, lockDuration: 30_000 },
  );
  return {
    worker,
    async close() {
      await worker.close();
      control.disconnect();
    },
  };
}

/** Polls `check` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
