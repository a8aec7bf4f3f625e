import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { ScanCommandRefusedError, ScanLinkError } from './scan-errors.js';

/** Where and how scan mode connects to one node (a source node: the shard's link options; or a target node). */
export interface SourceClientOptions {
  /** the reachable address dialled */
  host: string;
  port: number;
  /** names the node in messages, e.g. `shard p-0 (10.0.0.5:6379 via 203.0.113.7:16379)`. @defaultValue host:port */
  label?: string;
  username?: string;
  /** resolved password (never a reference) */
  password?: string;
  /** TLS options; omitted = plain TCP */
  tls?: ConnectionOptions;
  /** bound on the TCP/TLS connect. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** which side of the plan the node belongs to, for messages. @defaultValue 'source' */
  side?: 'source' | 'target';
}

/** An open source connection. `close` is idempotent and does not report a loss. */
export interface SourceClient {
  redis: Redis;
  /** the node as messages name it */
  label: string;
  close(): void;
}

/** Replies that mean the user may not run the command, or the command was renamed away. */
const REFUSED = /^(NOPERM|ERR unknown command|ERR unknown subcommand)/i;

export function isRefusal(error: unknown): boolean {
  return REFUSED.test((error as Error)?.message ?? '');
}

export function labelOf(options: SourceClientOptions): string {
  return options.label ?? `${options.host}:${options.port}`;
}

/**
 * Opens one ioredis connection to the source that never reconnects or queues by itself: scan mode owns recovery
 * (a lost link means notifications may have been lost, which only a re-scan repairs), so a loss must surface.
 * Authenticates (AUTH [username] password) and checks PING. `onLost` is called once when the link ends on its own.
 */
export async function openSourceClient(
  options: SourceClientOptions,
  name: string,
  onLost: (error: ScanLinkError) => void,
): Promise<SourceClient> {
  const label = labelOf(options);
  const side = options.side ?? 'source';
  const client = new Redis({
    host: options.host,
    port: options.port,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    // CLIENT SETINFO before AUTH would only fail with NOAUTH: AUTH is sent below.
    disableClientInfo: true,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  let lastError: Error | undefined;
  let closing = false;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
    if (options.username !== undefined || options.password !== undefined) {
      const credentials = [options.username, options.password ?? ''].filter((part) => part !== undefined);
      await client.call('AUTH', ...credentials);
    }
    await client.call('PING');
  } catch (error) {
    client.disconnect();
    const reason = (lastError ?? (error as Error)).message;
    throw new ScanLinkError(
      side === 'source' ? 'SCAN_SOURCE_UNREACHABLE' : 'SCAN_TARGET_UNREACHABLE',
      `cannot open the ${name} connection to ${side} ${label}: ${reason} — check the address, credentials and ` +
        `TLS settings of the plan’s ${side}`,
    );
  }
  // Best effort: it names the connection in CLIENT LIST on the source; a refusal is harmless.
  client.call('CLIENT', 'SETNAME', `shardbridge-scan-${name}`).catch(() => undefined);
  client.once('end', () => {
    if (closing) return;
    const cause = lastError ? `: ${lastError.message}` : '';
    onLost(
      new ScanLinkError(
        side === 'source' ? 'SCAN_SOURCE_LOST' : 'SCAN_TARGET_LOST',
        `the ${name} connection to ${side} ${label} was lost${cause}`,
      ),
    );
  });
  return {
    redis: client,
    label,
    close: () => {
      closing = true;
      client.disconnect();
    },
  };
}

/** Turns a refusal of `command` into the operator's error; any other error passes unchanged. */
export function refusalOf(error: unknown, label: string, command: string): unknown {
  if (isRefusal(error)) return new ScanCommandRefusedError(label, command, (error as Error).message);
  return error;
}
