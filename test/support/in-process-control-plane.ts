import { pino } from 'pino';
import { startCoordinator, type RunningCoordinator } from '@shardbridge/coordinator';
import { ShardWorker } from '@shardbridge/worker';
import type { RedisServer } from '@shardbridge/testkit';

/** A coordinator and workers in this test process over one queue Redis: quicker to start than CLI processes. */
export interface InProcessControlPlane {
  url: string;
  workers: ShardWorker[];
  close(): Promise<void>;
}

export async function startInProcessControlPlane(
  queue: RedisServer,
  options: {
    workers?: number;
    concurrency?: number;
    /** the coordinator's `apiToken` and `historyIntervalMs` (unset: open, 5000) */
    apiToken?: string;
    historyIntervalMs?: number;
  } = {},
): Promise<InProcessControlPlane> {
  const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });
  const coordinator: RunningCoordinator = await startCoordinator({
    queue: queue.url,
    port: 0,
    logger,
    topologyCheckMs: 0,
    apiToken: options.apiToken,
    historyIntervalMs: options.historyIntervalMs,
  });
  const workers: ShardWorker[] = [];
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const worker = new ShardWorker({
      connection: queue.url,
      concurrency: options.concurrency ?? 4,
      workerId: `test-${process.pid}-${i}`,
      logger,
      progressIntervalMs: 200,
    });
    await worker.start();
    workers.push(worker);
  }
  return {
    url: coordinator.url,
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.stop({ handOff: false }).catch(() => undefined)));
      await coordinator.close().catch(() => undefined);
    },
  };
}

/** Polls GET `path` until `done(body)`, bounded by `timeoutMs`; returns the body. */
export async function pollJson<T>(url: string, done: (body: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    last = await response.json();
    if (response.ok && done(last as T)) return last as T;
    if (Date.now() > deadline)
      throw new Error(`timed out polling ${url}; last: ${JSON.stringify(last).slice(0, 3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The parsed answer of a POST (`body` untyped: the suites read what they assert). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Posted = { status: number; body: any };

export async function postJson(url: string, body: unknown = {}): Promise<Posted> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.json() };
}
