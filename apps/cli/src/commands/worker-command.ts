import { pino } from 'pino';
import { LOG_REDACTION } from '@shardbridge/plan';
import { ShardWorker, type QueueConnection } from '@shardbridge/worker';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  exitSoonAfterStop,
  shutdownBudget,
  waitForShutdownSignal,
} from '../shutdown-signal.js';

export interface WorkerCommandOptions {
  queue?: QueueConnection;
  concurrency: number;
  logLevel: string;
  /** see ShardWorkerOptions.migrationBarrierTimeoutMs. @defaultValue 60000 */
  migrationBarrierTimeoutMs?: number;
  /** see ShardWorkerOptions.verifyConcurrency. @defaultValue 2 */
  verifyConcurrency?: number;
  /** see ShardWorkerOptions.lockDurationMs. @defaultValue 10000 */
  lockDurationMs?: number;
  /** see ShardWorkerOptions.stalledIntervalMs. @defaultValue 5000 */
  stalledIntervalMs?: number;
  /**
   * Bound on the stop after SIGINT/SIGTERM: the shards get half of it to flush and checkpoint, handing the jobs
   * back gets until three quarters, and the process exits when it has passed. @defaultValue 20000
   */
  shutdownTimeoutMs?: number;
}

/**
 * `shardbridge worker`: runs up to `concurrency` shard jobs. SIGTERM/SIGINT hands every running shard back to the
 * queue after a graceful stop (flush, checkpoint), so another worker resumes it within seconds.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  if (!options.queue) {
    throw new CliError(
      'give the queue Redis with --queue redis://host:port (or SHARDBRIDGE_QUEUE)',
      EXIT_USAGE,
    );
  }
  if (options.concurrency < 1) throw new CliError('--concurrency must be at least 1', EXIT_USAGE);
  // Below a second BullMQ's renewal (every half lock) races ordinary event-loop pauses of a streaming sync.
  if (options.lockDurationMs !== undefined && options.lockDurationMs < 1000) {
    throw new CliError('--lock-duration must be at least 1000 ms', EXIT_USAGE);
  }
  if (options.stalledIntervalMs !== undefined && options.stalledIntervalMs < 100) {
    throw new CliError('--stalled-interval must be at least 100 ms', EXIT_USAGE);
  }
  const logger = pino({ level: options.logLevel, redact: LOG_REDACTION });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const worker = new ShardWorker({
    connection: options.queue,
    concurrency: options.concurrency,
    logger,
    migrationBarrierTimeoutMs: options.migrationBarrierTimeoutMs,
    verifyConcurrency: options.verifyConcurrency,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    stopTimeoutMs: shutdownBudget(shutdownTimeoutMs).workerStopMs,
  });
  await worker.start();
  logger.info({ concurrency: options.concurrency }, 'worker ready');
  const signal = await waitForShutdownSignal({
    timeoutMs: shutdownTimeoutMs,
    action: 'handing running shards back to the queue after flushing and checkpointing them',
  });
  logger.info({ signal, shards: worker.runningShards }, 'handing running shards back to the queue');
  await worker.stop({ handOff: true });
  exitSoonAfterStop();
}
