import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import type { Redis, RedisOptions } from 'ioredis';
import { ClientSet } from './client-set.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';
import { fetchInfo } from './info.js';
import { trackDir, untrackDir } from './process-registry.js';
import type { RedisServer, StartRedisOptions } from './redis-server.js';
import { serverArgs, serverUrl } from './start-options.js';

/**
 * Image for container-backed servers; matches the redis-server the spawned path is tested against.
 * Override with env `SHARDBRIDGE_REDIS_IMAGE`.
 */
const DEFAULT_IMAGE = 'redis:7.0.15';
const CONTAINER_PORT = 6379;

/**
 * Starts Redis in a container (only when a runtime is reachable; see `containerRuntimeAvailable`). The host
 * port is pinned so restart() keeps it, and {@link RedisServer.dir} is bind-mounted at /data so data survives.
 * Not exercised by this repo's CI, which has no container runtime.
 */
export async function startRedisContainer(options: StartRedisOptions): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-redis-'));
  trackDir(dir);
  const port = await freePort();
  const args = serverArgs(options);
  try {
    const container = await new RedisContainer(process.env.SHARDBRIDGE_REDIS_IMAGE ?? DEFAULT_IMAGE)
      .withExposedPorts({ container: CONTAINER_PORT, host: port })
      .withBindMounts([{ source: dir, target: '/data', mode: 'rw' }])
      .withCommand(['redis-server', ...args])
      .start();
    return new ContainerRedis(container, port, dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw error;
  }
}

class ContainerRedis implements RedisServer {
  readonly kind = 'container' as const;
  readonly pid = 0;
  readonly host: string;
  readonly url: string;
  readonly password?: string;
  readonly username?: string;
  readonly #clients = new ClientSet();
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly container: StartedRedisContainer,
    readonly port: number,
    readonly dir: string,
    options: StartRedisOptions,
  ) {
    this.host = container.getHost();
    this.password = options.password;
    this.username = options.username;
    this.url = serverUrl(this.host, port, options);
  }

  client(overrides: RedisOptions = {}): Redis {
    return this.#clients.open(
      { host: this.host, port: this.port, username: this.username, password: this.password },
      overrides,
    );
  }

  info(section?: string): Promise<Record<string, string>> {
    return fetchInfo(
      { host: this.host, port: this.port, username: this.username, password: this.password },
      section,
    );
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#clients.disconnectAll();
      await this.container.stop({ timeout: 5000 });
      await rm(this.dir, { recursive: true, force: true });
      untrackDir(this.dir);
    })();
    return this.#stopping;
  }

  async kill(): Promise<void> {
    // PID 1 ignores signals sent from inside its namespace; SHUTDOWN NOSAVE makes the container exit instead.
    await this.container.exec(['redis-cli', ...this.#cliAuth(), 'shutdown', 'nosave']).catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.container.restart();
  }

  async pause(): Promise<void> {
    throw new TestkitError('TESTKIT_UNSUPPORTED', 'pause() is only supported for spawned servers');
  }

  async resume(): Promise<void> {
    throw new TestkitError('TESTKIT_UNSUPPORTED', 'resume() is only supported for spawned servers');
  }

  #cliAuth(): string[] {
    if (this.password === undefined) return [];
    return [...(this.username !== undefined ? ['--user', this.username] : []), '--pass', this.password];
  }
}
