import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions, RedisOptions as BullRedisOptions } from 'bullmq';
import { resolveSecret } from '@shardbridge/plan';

/**
 * Where the queue's Redis is: a `redis://` / `rediss://` URL or ioredis options. One Redis holds BullMQ's keys,
 * ShardBridge's own keys (checkpoints, control, heartbeats) and the control channel.
 */
export type QueueConnection = string | RedisOptions;

/**
 * TLS to the queue's Redis beyond what a `rediss://` URL alone gives (system CAs, no client certificate): a
 * private CA, a client certificate for `tls-auth-clients yes`, a certificate name other than the dialled host.
 * Any of them turns TLS on, also with a `redis://` URL.
 */
export interface QueueTlsOptions {
  /** CA bundle (PEM file) that signed the queue Redis's certificate. @defaultValue the system CAs */
  ca?: string;
  /** client certificate (PEM file). @defaultValue none */
  cert?: string;
  /**
   * the client certificate's private key: a PEM file path, or a secret reference (`env:NAME`, `file:/path`).
   * @defaultValue none
   */
  key?: string;
  /** SNI and the name the certificate must carry. @defaultValue the URL's host */
  servername?: string;
}

/** A queue TLS file that cannot be read: named with the flag that gave it, never with its content. */
export class QueueTlsFileError extends Error {
  readonly code = 'QUEUE_TLS_FILE_UNREADABLE';
  override name = 'QueueTlsFileError';
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new QueueTlsFileError(`queue TLS ${what}: cannot read ${path} (${reason})`);
  }
}

/**
 * The queue connection of a URL plus TLS files: the URL itself when no TLS option is given (ioredis and BullMQ
 * read `rediss://` as TLS with the system CAs), otherwise ioredis options carrying the URL's host, port, user,
 * password and db and the TLS material read now, so a bad path fails at start, not at the first reconnect.
 */
export function queueConnectionOf(url: string, tls: QueueTlsOptions = {}): QueueConnection {
  const wantsTls = [tls.ca, tls.cert, tls.key, tls.servername].some((value) => value !== undefined);
  if (!wantsTls) return url;
  const parsed = new URL(url);
  const key = tls.key === undefined ? undefined : keyMaterial(tls.key);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    tls: {
      ...(tls.ca === undefined ? {} : { ca: readPem(tls.ca, 'CA') }),
      ...(tls.cert === undefined ? {} : { cert: readPem(tls.cert, 'client certificate') }),
      ...(key === undefined ? {} : { key }),
      ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    },
  };
}

function keyMaterial(key: string): Buffer {
  if (key.startsWith('env:') || key.startsWith('file:')) {
    return Buffer.from(resolveSecret(key, 'queue TLS key') ?? '');
  }
  return readPem(key, 'key');
}

/** The queue's address for output and logs: scheme, host, port and db, never the user's password. */
export function describeQueue(connection: QueueConnection): string {
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      if (url.password !== '') url.password = '***';
      return url.toString().replace(/\/$/, '');
    } catch {
      return '(unparsable queue URL)';
    }
  }
  const scheme = connection.tls ? 'rediss' : 'redis';
  const host = connection.host ?? '127.0.0.1';
  const password = connection.password ? ':***' : '';
  const user = connection.username || password ? `${connection.username ?? ''}${password}@` : '';
  return `${scheme}://${user}${host.includes(':') ? `[${host}]` : host}:${connection.port ?? 6379}${connection.db ? `/${connection.db}` : ''}`;
}

/** A new ioredis client to the queue's Redis, owned (and closed) by the caller. */
export function connectQueueRedis(connection: QueueConnection, overrides: RedisOptions = {}): Redis {
  return typeof connection === 'string'
    ? new Redis(connection, overrides)
    : new Redis({ ...connection, ...overrides });
}

/** The same place as BullMQ connection options; BullMQ opens (and closes) its own clients from these. */
export function bullConnection(connection: QueueConnection): ConnectionOptions {
  // ioredis options are what BullMQ's default client takes; only their declared types differ in detail.
  return typeof connection === 'string' ? { url: connection } : ({ ...connection } as BullRedisOptions);
}
