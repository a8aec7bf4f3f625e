import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { VERIFY_QUEUE, type ShardVerification, type VerifyJobData } from '@shardbridge/plan';
import { bullConnection, type QueueConnection } from '../queue/queue-connection.js';
import type { SecretResolver } from '../queue/sync-options-from-job.js';
import { verifyShard } from './shard-verifier.js';

export interface VerifyWorkerOptions {
  connection: QueueConnection;
  /** shard verifications this process runs at once (they do not take a shard slot). @defaultValue 2 */
  concurrency?: number;
  workerId: string;
  logger: Logger;
  resolveSecret?: SecretResolver;
}

/**
 * Takes verification jobs (`VERIFY_QUEUE`, one per shard and run) alongside the shard jobs of the same process.
 * A job returns its shard's ShardVerification; it fails only on a worker bug, since a shard that cannot be read is
 * a result (`status: 'error'`) the coordinator reports.
 */
export class VerifyWorker {
  private worker: Worker<VerifyJobData, ShardVerification> | null = null;

  constructor(private readonly options: VerifyWorkerOptions) {}

  async start(): Promise<void> {
    const { options } = this;
    const worker = new Worker<VerifyJobData, ShardVerification>(
      VERIFY_QUEUE,
      async (job) => {
        const logger = options.logger.child({ shard: job.data.shard.shardId, verification: job.data.runId });
        logger.info({ level: job.data.settings.level }, 'verifying shard');
        let reportedAt = 0;
        const result = await verifyShard({
          data: job.data.shard,
          settings: job.data.settings,
          logger,
          resolveSecret: options.resolveSecret,
          // At most once a second: the coordinator shows it in the running report.
          onProgress: (progress) => {
            if (Date.now() - reportedAt < 1000) return;
            reportedAt = Date.now();
            job.updateProgress(progress).catch(() => undefined);
          },
        });
        logger.info(
          { status: result.status, totals: result.totals, keys: result.keysCompared },
          'shard verified',
        );
        return result;
      },
      {
        connection: bullConnection(options.connection),
        name: `${options.workerId}-verify`,
        concurrency: options.concurrency ?? 2,
        // Long verifications of big shards keep their lock by renewal; a dead worker's job is retaken.
        lockDuration: 30_000,
        autorun: false,
      },
    );
    worker.on('error', (error) => options.logger.error({ err: error.message }, 'verify worker error'));
    this.worker = worker;
    worker
      .run()
      .catch((error: Error) => options.logger.error({ err: error.message }, 'verify worker stopped'));
    await worker.waitUntilReady();
  }

  /** Waits for running verifications to finish (they are bounded by the coordinator's timeout). */
  async stop(force = false): Promise<void> {
    await this.worker?.close(force);
  }
}
