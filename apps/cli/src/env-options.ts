import { InvalidArgumentError } from 'commander';

/** Environment variables that stand in for flags (a flag given on the command line wins). */
export const ENV = {
  queue: 'SHARDBRIDGE_QUEUE',
  port: 'SHARDBRIDGE_PORT',
  host: 'SHARDBRIDGE_HOST',
  concurrency: 'SHARDBRIDGE_CONCURRENCY',
  api: 'SHARDBRIDGE_API',
  apiToken: 'SHARDBRIDGE_API_TOKEN',
  apiCa: 'SHARDBRIDGE_API_CA',
  apiCert: 'SHARDBRIDGE_API_CERT',
  apiKey: 'SHARDBRIDGE_API_KEY',
  tlsCert: 'SHARDBRIDGE_TLS_CERT',
  tlsKey: 'SHARDBRIDGE_TLS_KEY',
  tlsClientCa: 'SHARDBRIDGE_TLS_CLIENT_CA',
  rateLimit: 'SHARDBRIDGE_RATE_LIMIT',
} as const;

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return value;
}

export function redisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'redis:' || url.protocol === 'rediss:' || url.protocol === 'unix:') return text;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected redis://[user:password@]host:port[/db] or rediss://…');
}

/** What `--api` expects, for the messages that refuse another form. */
export const API_URL_FORM =
  "expected the coordinator's base URL as http(s)://host:port, e.g. http://127.0.0.1:8080";

/** `--api`: an http(s) URL. `127.0.0.1:8080` (no scheme) would otherwise parse as a URL of scheme `127.0.0.1:`. */
export function apiUrl(text: string): string {
  try {
    const url = new URL(text);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) return text;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError(API_URL_FORM);
}
