import { configToArgs } from './redis-config.js';
import type { StartRedisOptions } from './redis-server.js';

/**
 * The redis-server arguments every testkit server gets, however it runs: no persistence, a replica's full sync
 * starts at once, auth per `password`/`username`, then the caller's `config` and `args` (last, so they win).
 * Where the server listens, its dir and its log file are the launcher's business.
 */
export function serverArgs(options: StartRedisOptions): string[] {
  return [
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--protected-mode',
    'no',
    ...(options.password !== undefined ? ['--requirepass', options.password] : []),
    ...(options.username !== undefined
      ? [
          '--user',
          options.username,
          'on',
          options.password === undefined ? 'nopass' : `>${options.password}`,
          '~*',
          '&*',
          '+@all',
        ]
      : []),
    ...configToArgs(options.config ?? {}),
    ...(options.args ?? []),
  ];
}

/** `redis://[user:password@]host:port`, user and password percent-encoded. */
export function serverUrl(host: string, port: number, options: StartRedisOptions): string {
  const auth =
    options.password === undefined
      ? ''
      : `${encodeURIComponent(options.username ?? '')}:${encodeURIComponent(options.password)}@`;
  return `redis://${auth}${host}:${port}`;
}
