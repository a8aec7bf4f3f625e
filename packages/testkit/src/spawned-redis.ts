import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis, RedisOptions } from 'ioredis';
import { ClientSet } from './client-set.js';
import { RedisStartError } from './errors.js';
import { freePort } from './free-port.js';
import { fetchInfo } from './info.js';
import { pingOnce } from './ping.js';
import { requestedRedisBin } from './redis-bin.js';
import { trackDir, trackProcess, untrackDir } from './process-registry.js';
import { isClusterConfig } from './redis-config.js';
import type { RedisServer, StartRedisOptions } from './redis-server.js';
import { sleep } from './sleep.js';
import { serverArgs, serverUrl } from './start-options.js';

const HOST = '127.0.0.1';
const LOG_FILE = 'redis.log';
const STOP_GRACE_MS = 5000;
const PORT_ATTEMPTS = 5;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Spawns redis-server per {@link StartRedisOptions}; see `startRedis`. */
export async function spawnRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-redis-'));
  trackDir(dir);
  const withBusPort = isClusterConfig(options.config);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort({ host: HOST, withBusPort });
    const server = new SpawnedRedis(port, dir, options);
    try {
      await server.launch();
      return server;
    } catch (error) {
      lastError = error;
      await server.kill().catch(() => undefined);
      if (!(error instanceof AddressInUse)) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  untrackDir(dir);
  throw lastError;
}

/** Another process took the port between probing and binding; the caller retries elsewhere. */
class AddressInUse extends RedisStartError {}

class SpawnedRedis implements RedisServer {
  readonly host = HOST;
  readonly kind = 'spawn' as const;
  readonly url: string;
  readonly password?: string;
  readonly username?: string;
  #child: ChildProcess | undefined;
  #exit: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #running = false;
  #output = '';
  readonly #clients = new ClientSet();
  #stopping: Promise<void> | undefined;
  readonly #args: string[];
  readonly #bin: string;
  readonly #startTimeoutMs: number;

  constructor(
    readonly port: number,
    readonly dir: string,
    options: StartRedisOptions,
  ) {
    this.password = options.password;
    this.username = options.username;
    this.#bin = requestedRedisBin(options) ?? 'redis-server';
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#args = [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      dir,
      '--logfile',
      path.join(dir, LOG_FILE),
      ...serverArgs(options),
    ];
    this.url = serverUrl(HOST, port, options);
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Spawns the process and waits for PING; throws {@link RedisStartError} with the log tail on failure. */
  async launch(): Promise<void> {
    this.#output = '';
    const child = spawn(this.#bin, this.#args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#running = true;
    trackProcess(child);
    // Unreferenced so a test that forgets stop() still lets the worker exit; the exit hook kills the server.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.#output = (this.#output + chunk).slice(-4096);
      });
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    this.#exit = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#running = false;
        resolve({ code, signal });
      });
      child.once('error', (error) => {
        this.#output += `\nspawn error: ${error.message}`;
        this.#running = false;
        resolve({ code: null, signal: null });
      });
    });
    await this.#waitUntilReady();
  }

  async #waitUntilReady(): Promise<void> {
    const deadline = Date.now() + this.#startTimeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.#running) {
        const exit = await this.#exit;
        const tail = await this.#logTail();
        const message = `redis-server on ${HOST}:${this.port} exited (code ${exit.code}, signal ${exit.signal})\n${tail}`;
        if (/address already in use/i.test(tail)) throw new AddressInUse(message);
        throw new RedisStartError(message);
      }
      try {
        last = await pingOnce(HOST, this.port, { username: this.username, password: this.password }, 1000);
        // Another process may have bound the port between probe and spawn; then ours is about to exit with
        // EADDRINUSE and must not be mistaken for ready.
        if (last === '+PONG' && (await this.#answeredByChild())) return;
        if (/^-(NOAUTH|WRONGPASS|ERR)/.test(last)) {
          throw new RedisStartError(`redis-server on ${HOST}:${this.port} rejected PING: ${last}`);
        }
      } catch (error) {
        if (error instanceof RedisStartError) throw error;
        last = (error as Error).message;
      }
      await sleep(15);
    }
    throw new RedisStartError(
      `redis-server on ${HOST}:${this.port} did not answer PING within ${this.#startTimeoutMs} ms (last: ${last})\n${await this.#logTail()}`,
    );
  }

  async #answeredByChild(): Promise<boolean> {
    const info = await fetchInfo(
      { host: HOST, port: this.port, username: this.username, password: this.password },
      'server',
      1000,
    );
    if (Number(info.process_id) === this.#child?.pid) return true;
    throw new Error(`port ${this.port} is answered by pid ${info.process_id}, not ${this.#child?.pid}`);
  }

  async #logTail(bytes = 2048): Promise<string> {
    let log = '';
    try {
      const handle = await open(path.join(this.dir, LOG_FILE), 'r');
      try {
        const { size } = await handle.stat();
        const length = Math.min(bytes, size);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, size - length);
        log = buffer.toString('utf8');
      } finally {
        await handle.close();
      }
    } catch {
      // No log yet: config errors are printed to stderr before the logfile is opened.
    }
    const output = this.#output.trim();
    return [log.trim() && `--- ${LOG_FILE} (tail) ---\n${log.trim()}`, output && `--- output ---\n${output}`]
      .filter(Boolean)
      .join('\n');
  }

  client(overrides: RedisOptions = {}): Redis {
    if (this.#stopping) throw new RedisStartError(`redis-server on ${HOST}:${this.port} was stopped`);
    return this.#clients.open(
      { host: HOST, port: this.port, username: this.username, password: this.password },
      overrides,
    );
  }

  info(section?: string): Promise<Record<string, string>> {
    return fetchInfo(
      { host: HOST, port: this.port, username: this.username, password: this.password },
      section,
    );
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#clients.disconnectAll();
    await this.#terminate();
    await rm(this.dir, { recursive: true, force: true });
    untrackDir(this.dir);
  }

  /** SIGTERM (resuming a paused process first), escalating to SIGKILL after the grace period. */
  async #terminate(): Promise<void> {
    if (!this.#running) return;
    this.#child?.kill('SIGCONT');
    this.#child?.kill('SIGTERM');
    const exited = await Promise.race([this.#exit.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!exited) {
      this.#child?.kill('SIGKILL');
      await this.#exit;
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.#running) return;
    this.#child?.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return;
    const exited = await Promise.race([this.#exit.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!exited) throw new RedisStartError(`redis-server pid ${this.pid} ignored ${signal}`);
  }

  async restart(): Promise<void> {
    if (this.#stopping) throw new RedisStartError(`redis-server on ${HOST}:${this.port} was stopped`);
    await this.#terminate();
    // The port is ours by convention; if something grabbed it meanwhile, give it a moment and retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (!(error instanceof AddressInUse) || attempt >= 10) throw error;
        await sleep(200);
      }
    }
  }

  async pause(): Promise<void> {
    await this.kill('SIGSTOP');
  }

  async resume(): Promise<void> {
    await this.kill('SIGCONT');
  }
}
