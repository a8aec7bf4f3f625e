import { join } from 'node:path';
import type { Logger } from 'pino';
import { startCoordinator, type RunningCoordinator } from '@shardbridge/coordinator';
import { describeQueue, ShardWorker, type QueueConnection } from '@shardbridge/worker';
import { startEmbeddedQueue, type EmbeddedQueue } from './embedded-queue.js';

export interface EmbeddedControlPlaneOptions {
  /** an existing queue Redis; omitted = start (or reuse) one under `dataDir` */
  queue?: QueueConnection;
  /** @defaultValue `.shardbridge` under the working directory */
  dataDir: string;
  /** in-process workers. @defaultValue 1 */
  workers?: number;
  /** shard jobs per worker. @defaultValue 4 */
  concurrency?: number;
  /** coordinator port; 0 = any free one. @defaultValue 0 */
  port?: number;
  apiToken?: string;
  logger: Logger;
  /** passed to the workers (tests and demos shorten it). @defaultValue ShardWorker's */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** bound on each worker's stop in `close()` (see ShardWorkerOptions.stopTimeoutMs). @defaultValue 15000 */
  stopTimeoutMs?: number;
  /**
   * Start no worker until `startWorkers()` is called, so the caller can settle which plan runs (e.g. `run` comparing
   * its file with a stored plan) before a worker takes one of its queued jobs. @defaultValue false
   */
  deferWorkers?: boolean;
}

/** Coordinator + workers + queue in one process: what `run` and the demo use. */
export interface EmbeddedControlPlane {
  url: string;
  /** where the queue is, for output: never its password (see describeQueue) */
  queueUrl: string;
  queueReused: boolean;
  workers: ShardWorker[];
  /** starts the workers (a no-op unless `deferWorkers` held them back, and after the first call) */
  startWorkers(): Promise<void>;
  /** hands running shards back to the queue after a graceful stop, closes the API, stops an embedded queue */
  close(): Promise<void>;
}

export async function startEmbeddedControlPlane(
  options: EmbeddedControlPlaneOptions,
): Promise<EmbeddedControlPlane> {
  let embedded: EmbeddedQueue | null = null;
  const queue = options.queue ?? (embedded = await startEmbeddedQueue(join(options.dataDir, 'queue'))).url;
  const queueUrl = describeQueue(queue);
  let coordinator: RunningCoordinator | null = null;
  const workers: ShardWorker[] = [];
  const close = async () => {
    await Promise.all(workers.map((worker) => worker.stop({ handOff: true }).catch(() => undefined)));
    await coordinator?.close().catch(() => undefined);
    await embedded?.stop();
  };
  try {
    coordinator = await startCoordinator({
      queue,
      port: options.port ?? 0,
      apiToken: options.apiToken,
      // Request logs of the in-process API are noise here: the caller prints progress itself.
      logger: options.logger.child({ component: 'coordinator' }, { level: 'warn' }),
    });
  } catch (error) {
    await close();
    throw error;
  }
  let started = false;
  const startWorkers = async () => {
    if (started) return;
    started = true;
    try {
      for (let i = 0; i < (options.workers ?? 1); i++) {
        const worker = new ShardWorker({
          connection: queue,
          concurrency: options.concurrency ?? 4,
          workerId: `embedded-${process.pid}-${i}`,
          logger: options.logger.child({ component: `worker-${i}` }),
          lockDurationMs: options.lockDurationMs,
          stalledIntervalMs: options.stalledIntervalMs,
          stopTimeoutMs: options.stopTimeoutMs,
        });
        workers.push(worker);
        await worker.start();
      }
    } catch (error) {
      await close();
      throw error;
    }
  };
  if (!options.deferWorkers) await startWorkers();
  return {
    url: coordinator.url,
    queueUrl,
    queueReused: embedded?.reused ?? false,
    workers,
    startWorkers,
    close,
  };
}
