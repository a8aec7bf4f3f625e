import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { RedisServer } from '@shardbridge/testkit';
import type { CliProcess } from './cli-process.js';

/** A scratch directory for one test: plan files and checkpoints. */
export async function scratchDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'shardbridge-e2e-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface Endpoint {
  host: string;
  port: number;
}

export async function writePlan(
  dir: string,
  source: Endpoint & { password?: string },
  target: Endpoint & { type?: 'standalone' | 'cluster'; password?: string },
  name = 'e2e',
): Promise<string> {
  const plan = {
    name,
    source: {
      type: 'standalone',
      seeds: [`${source.host}:${source.port}`],
      ...(source.password ? { password: source.password } : {}),
    },
    target: {
      type: target.type ?? 'standalone',
      seeds: [`${target.host}:${target.port}`],
      ...(target.password ? { password: target.password } : {}),
    },
  };
  const file = join(dir, `${name}.plan.json`);
  await mkdir(dir, { recursive: true });
  await writeFile(file, JSON.stringify(plan, null, 2));
  return file;
}

/** The last acknowledged offset `shardbridge run` printed, -1 before any. */
export function lastAcked(stdout: string): number {
  const matches = [...stdout.matchAll(/acked (-?\d+)/g)];
  return matches.length ? Number(matches[matches.length - 1][1]) : -1;
}

export async function masterOffset(server: RedisServer): Promise<number> {
  return Number((await server.info('replication')).master_repl_offset);
}

export async function syncCounters(server: RedisServer): Promise<{ full: number; partialOk: number }> {
  const stats = await server.info('stats');
  return { full: Number(stats.sync_full), partialOk: Number(stats.sync_partial_ok) };
}

/** Waits until `run` has confirmed every byte the source has written so far. */
export async function waitUntilCaughtUp(
  cli: CliProcess,
  source: RedisServer,
  timeoutMs = 120_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const goal = await masterOffset(source);
  for (;;) {
    if (lastAcked(cli.stdout()) >= goal) return goal;
    if (Date.now() > deadline) {
      throw new Error(
        `run did not confirm offset ${goal} within ${timeoutMs} ms (last acked ${lastAcked(cli.stdout())})\n` +
          `stdout:\n${cli.stdout().slice(-3000)}\nstderr:\n${cli.stderr().slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Writes whose replay converges: every command sets an absolute state (SET, HSET, SADD/SREM, ZADD, DEL,
 * PEXPIREAT), so re-applying any suffix of the stream in order ends in the same data. Used where a test kills
 * the syncing process mid-stream on purpose.
 */
export function startIdempotentWrites(client: Redis): { stop(): Promise<number> } {
  let running = true;
  let rounds = 0;
  const loop = (async () => {
    while (running) {
      const r = rounds++;
      const p = client.pipeline();
      p.set(`idem:str:${r % 300}`, `v${r}`);
      p.hset(`idem:hash:${r % 20}`, `f${r % 50}`, `v${r}`);
      p.sadd(`idem:set:${r % 10}`, `m${r % 100}`);
      if (r % 3 === 0) p.srem(`idem:set:${r % 10}`, `m${(r * 7) % 100}`);
      p.zadd(`idem:zset:${r % 10}`, r, `z${r % 60}`);
      if (r % 5 === 0) p.del(`idem:str:${(r * 3) % 300}`);
      p.pexpireat(`idem:hash:${r % 20}`, Date.UTC(2100, 0, 1) + r);
      await p.exec();
      // A steady trickle, not a flood: the point is writes in flight at every moment, on a shared 2-core box.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return rounds;
    },
  };
}

/** redis-benchmark writing into `server` until stopped (a second source of load with many clients). */
export function startBenchmark(server: RedisServer, keySpace = 20000): { stop(): Promise<void> } {
  const child = spawn(
    'redis-benchmark',
    [
      '-h',
      server.host,
      '-p',
      String(server.port),
      ...(server.password ? ['-a', server.password] : []),
      '-c',
      '2',
      '-P',
      '4',
      '-r',
      String(keySpace),
      '-n',
      '100000000',
      '-q',
      '-t',
      'set,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,mset',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
