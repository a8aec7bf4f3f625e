import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CliError } from '../cli-error.js';

/** A queue Redis that `run` starts itself when no `--queue` is given. */
export interface EmbeddedQueue {
  url: string;
  /** true when an instance left running by an earlier `run` (e.g. after kill -9) was found and reused */
  reused: boolean;
  /** SHUTDOWN (the AOF keeps plans, jobs and checkpoints for the next `run`) */
  stop(): Promise<void>;
}

interface QueueRecord {
  pid: number;
  port: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts (or reuses) a loopback redis-server with its data in `dir`: append-only file on, no eviction, as the
 * queue Redis must run. State survives a crash of `run`: the server keeps running, and the next `run` finds it
 * through `dir/queue.json`; after a reboot the AOF in `dir` brings plans, jobs and checkpoints back.
 */
export async function startEmbeddedQueue(
  dir: string,
  bin = process.env.REDIS_SERVER_BIN ?? 'redis-server',
): Promise<EmbeddedQueue> {
  await mkdir(dir, { recursive: true });
  const recordFile = join(dir, 'queue.json');
  const previous = await readFile(recordFile, 'utf8').then(
    (text) => JSON.parse(text) as QueueRecord,
    () => null,
  );
  if (previous && (await answers(previous.port))) {
    return { url: `redis://127.0.0.1:${previous.port}`, reused: true, stop: () => shutdown(previous.port) };
  }
  const port = await freePort();
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      'queue.log',
    ],
    { stdio: 'ignore', detached: true },
  );
  child.unref();
  const started = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('spawn', () => resolve(true));
  });
  if (!started) {
    throw new CliError(
      `cannot start ${bin} for the embedded queue: install redis-server (e.g. apt-get install redis-server) or give ` +
        'an existing queue Redis with --queue redis://host:port',
    );
  }
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new CliError(`the embedded queue Redis did not start; see ${join(dir, 'queue.log')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await writeFile(recordFile, JSON.stringify({ pid: child.pid ?? 0, port } satisfies QueueRecord));
  return { url: `redis://127.0.0.1:${port}`, reused: false, stop: () => shutdown(port) };
}

async function shutdown(port: number): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.call('SHUTDOWN');
  } catch {
    // SHUTDOWN closes the connection instead of answering.
  } finally {
    client.disconnect();
  }
}
