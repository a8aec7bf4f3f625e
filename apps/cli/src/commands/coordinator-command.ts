import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { LOG_REDACTION } from '@shardbridge/plan';
import { startCoordinator, type CoordinatorTlsOptions } from '@shardbridge/coordinator';
import type { QueueConnection } from '@shardbridge/worker';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, exitSoonAfterStop, waitForShutdownSignal } from '../shutdown-signal.js';

export interface CoordinatorCommandOptions {
  queue?: QueueConnection;
  port: number;
  host: string;
  logLevel: string;
  /** see CoordinatorOptions.topologyCheckMs. @defaultValue 10000 */
  topologyCheckMs?: number;
  /** changing API requests per client address per minute; 0 = no limit. @defaultValue 120 */
  rateLimit?: number;
  /** largest accepted JSON body, bytes. @defaultValue 262144 */
  bodyLimitBytes?: number;
  /** serve HTTPS with this certificate chain (PEM file); needs `tlsKey`. @defaultValue undefined (plain HTTP) */
  tlsCert?: string;
  /** private key (PEM file) of `tlsCert`. @defaultValue undefined */
  tlsKey?: string;
  /** require client certificates signed by this CA (PEM file): mutual TLS; needs `tlsCert`. @defaultValue undefined */
  tlsClientCa?: string;
  /** bound on the stop after SIGINT/SIGTERM; the process exits when it has passed. @defaultValue 20000 */
  shutdownTimeoutMs?: number;
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new CliError(`cannot read ${flag} ${file}: ${(error as Error).message}`, EXIT_USAGE);
  }
}

/** The HTTPS settings from the flags, or undefined for plain HTTP. */
export async function coordinatorTls(
  options: Pick<CoordinatorCommandOptions, 'tlsCert' | 'tlsKey' | 'tlsClientCa'>,
): Promise<CoordinatorTlsOptions | undefined> {
  if (!options.tlsCert && !options.tlsKey && !options.tlsClientCa) return undefined;
  if (!options.tlsCert || !options.tlsKey) {
    throw new CliError(
      '--tls-cert and --tls-key go together (--tls-client-ca needs both): the certificate the API serves and its key',
      EXIT_USAGE,
    );
  }
  return {
    cert: await readPem('--tls-cert', options.tlsCert),
    key: await readPem('--tls-key', options.tlsKey),
    clientCa: options.tlsClientCa ? await readPem('--tls-client-ca', options.tlsClientCa) : undefined,
  };
}

/** `shardbridge coordinator`: the HTTP API, queue UI and metrics, until SIGINT/SIGTERM. */
export async function coordinatorCommand(options: CoordinatorCommandOptions): Promise<void> {
  if (!options.queue) {
    throw new CliError(
      'give the queue Redis with --queue redis://host:port (or SHARDBRIDGE_QUEUE)',
      EXIT_USAGE,
    );
  }
  const tls = await coordinatorTls(options);
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
    rateLimit: options.rateLimit === undefined ? undefined : { limit: options.rateLimit },
    bodyLimitBytes: options.bodyLimitBytes,
    tls,
  });
  logger.info(
    { url: coordinator.url, mutualTls: Boolean(tls?.clientCa) },
    `coordinator listening on ${coordinator.url} (queue UI at ${coordinator.url}/ui)`,
  );
  const signal = await waitForShutdownSignal({
    timeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    action: 'closing the API (shards keep running in their workers)',
  });
  logger.info({ signal }, 'shutting down');
  await coordinator.close();
  exitSoonAfterStop();
}
