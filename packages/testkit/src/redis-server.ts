import type { Redis, RedisOptions } from 'ioredis';
import { containerRuntimeAvailable } from './container-runtime.js';
import type { RedisConfig } from './redis-config.js';
import { requestedRedisBin, type RedisRole } from './redis-bin.js';
import { spawnRedis } from './spawned-redis.js';

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Extra redis.conf directives, appended after the testkit's own (so they win). The testkit's own are
   * `port`, `bind 127.0.0.1`, `dir`, `save ''`, `appendonly no`, `repl-diskless-sync-delay 0` (a replica's full
   * sync starts at once instead of after 5 s), `protected-mode no`, `logfile redis.log`.
   * @defaultValue `{}`
   */
  config?: RedisConfig;
  /**
   * Extra raw redis-server arguments appended last, for directives that must repeat (several `user` lines).
   * @defaultValue `[]`
   */
  args?: string[];
  /**
   * Password of the `default` user (`requirepass`), and of {@link StartRedisOptions.username} when set.
   * @defaultValue no password
   */
  password?: string;
  /**
   * Also create this ACL user with every permission (`~* &* +@all`) and {@link StartRedisOptions.password}.
   * The `default` user stays enabled with the same password. `client()` authenticates as this user.
   * @defaultValue no extra user
   */
  username?: string;
  /**
   * redis-server binary. Setting it (or one of the env variables below) always spawns, never uses a container.
   * @defaultValue env `SHARDBRIDGE_SOURCE_REDIS_BIN` / `SHARDBRIDGE_TARGET_REDIS_BIN` for that {@link role},
   * else env `REDIS_SERVER_BIN`, else `redis-server` on PATH
   */
  bin?: string;
  /**
   * The server's side in a sync test; picks the role's binary from the environment (the version matrix sets
   * them). @defaultValue none: only `REDIS_SERVER_BIN` applies
   */
  role?: RedisRole;
  /**
   * Upper bound for the server to answer PING after spawning.
   * @defaultValue `15000`
   */
  startTimeoutMs?: number;
}

/** A running (or deliberately killed) Redis for one test file. */
export interface RedisServer {
  readonly host: string;
  /** Reachable port; stays the same across {@link RedisServer.restart}. */
  readonly port: number;
  /** `redis://[user:password@]host:port`. */
  readonly url: string;
  /** Working dir (RDB, AOF, nodes.conf, redis.log); removed by stop(), kept by kill(). */
  readonly dir: string;
  readonly password?: string;
  readonly username?: string;
  /** Current process id; changes after restart(). 0 when backed by a container. */
  readonly pid: number;
  /** How the server runs: a spawned binary or a container. */
  readonly kind: 'spawn' | 'container';
  /**
   * A new connected ioredis client (authenticated), disconnected automatically by stop(). It reconnects by
   * itself after kill()/restart(); its 'error' events are silenced (commands still reject).
   */
  client(overrides?: RedisOptions): Redis;
  /** `INFO <section>` parsed into `field -> value`, over a one-shot connection that never retries. */
  info(section?: string): Promise<Record<string, string>>;
  /** SIGTERM, SIGKILL after 5 s, then removes {@link RedisServer.dir}. Idempotent. */
  stop(): Promise<void>;
  /**
   * Sends `signal` (default SIGKILL) and waits for the process to exit (not for SIGSTOP/SIGCONT/SIGTSTP);
   * leaves the dir so restart() finds its data.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and dir (gracefully stopping first if still running). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered. */
  pause(): Promise<void>;
  /** Undoes {@link RedisServer.pause}. */
  resume(): Promise<void>;
}

/**
 * Starts a throwaway Redis on a free loopback port. Spawns `redis-server` unless a container runtime is
 * reachable and neither `bin`, `REDIS_SERVER_BIN` nor `SHARDBRIDGE_TESTKIT=spawn` asks for a binary.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  if (await shouldUseContainer(options)) {
    const { startRedisContainer } = await import('./container-redis.js');
    return startRedisContainer(options);
  }
  return spawnRedis(options);
}

async function shouldUseContainer(options: StartRedisOptions): Promise<boolean> {
  if (requestedRedisBin(options) !== undefined) return false;
  if (process.env.SHARDBRIDGE_TESTKIT === 'spawn') return false;
  return containerRuntimeAvailable();
}
