import { pino } from 'pino';
import { LOG_REDACTION } from '@shardbridge/plan';
import { startCoordinator } from '@shardbridge/coordinator';
import type { QueueConnection } from '@shardbridge/worker';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { waitForShutdownSignal } from '../shutdown-signal.js';

export interface CoordinatorCommandOptions {
  queue?: QueueConnection;
  port: number;
  host: string;
  logLevel: string;
  /** see CoordinatorOptions.topologyCheckMs. @defaultValue 10000 */
  topologyCheckMs?: number;
}

/** `shardbridge coordinator`: the HTTP API, queue UI and metrics, until SIGINT/SIGTERM. */
export async function coordinatorCommand(options: CoordinatorCommandOptions): Promise<void> {
  if (!options.queue) {
    throw new CliError(
      'give the queue Redis with --queue redis://host:port (or SHARDBRIDGE_QUEUE)',
      EXIT_USAGE,
    );
  }
  const logger = pino({ level: options.logLevel, redact: LOG_REDACTION });
  const apiToken = process.env.SHARDBRIDGE_API_TOKEN || undefined;
  if (!apiToken)
    logger.warn('SHARDBRIDGE_API_TOKEN is not set: the API and /ui accept unauthenticated requests');
  const coordinator = await startCoordinator({
    queue: options.queue,
    port: options.port,
    host: options.host,
    apiToken,
    logger,
    topologyCheckMs: options.topologyCheckMs,
  });
  logger.info(
    { url: coordinator.url },
    `coordinator listening on ${coordinator.url} (queue UI at ${coordinator.url}/ui)`,
  );
  const signal = await waitForShutdownSignal();
  logger.info({ signal }, 'shutting down');
  await coordinator.close();
}
