import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { startCoordinator, type RunningCoordinator } from '@shardbridge/coordinator';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { discoverCommand } from './discover-command.js';

let source: RedisServer;
let target: RedisServer;
let queueRedis: RedisServer;
let coordinator: RunningCoordinator;
let dir: string;

beforeAll(async () => {
  [source, target, queueRedis] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  coordinator = await startCoordinator({
    port: 0,
    queue: { host: queueRedis.host, port: queueRedis.port },
    logger: pino({ level: 'silent' }),
  });
  dir = await mkdtemp(join(tmpdir(), 'sb-discover-'));
});

afterAll(async () => {
  await coordinator?.close();
  await Promise.all([source?.stop(), target?.stop(), queueRedis?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function planFile(name: string, plan: unknown): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(plan));
  return path;
}

function plan(sourceSeed: string): Record<string, unknown> {
  return {
    name: 'discover-cli',
    source: { type: 'standalone', seeds: [sourceSeed] },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
  };
}

async function run(path: string, options: Parameters<typeof discoverCommand>[1] = {}) {
  let out = '';
  const code = await discoverCommand(path, { ...options, write: (text) => (out += text) });
  return { code, out };
}

describe('shardbridge discover', () => {
  it('prints the report and exits 0 when every shard would work (in process)', async () => {
    const seed = `${source.host}:${source.port}`;
    const { code, out } = await run(await planFile('ok', plan(seed)));
    expect(code).toBe(0);
    expect(out).toContain(seed);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('exits 1 and names the unreachable source', async () => {
    const seed = `127.0.0.1:${await freePort()}`;
    const { code, out } = await run(await planFile('down', plan(seed)), { connectTimeoutMs: 1_000 });
    expect(code).toBe(1);
    expect(out).toContain(seed);
  });

  it('asks the coordinator with --api and prints the same report (JSON here)', async () => {
    const seed = `${source.host}:${source.port}`;
    const { code, out } = await run(await planFile('api', plan(seed)), { api: coordinator.url, json: true });
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.source.shards[0].reachable).toBe(seed);
  });

  it('throws a usage error (exit 2) for an invalid plan, locally and over the API', async () => {
    const path = await planFile('invalid', { name: 'x', source: { type: 'standalone', seeds: [] } });
    for (const options of [{}, { api: coordinator.url }]) {
      const failure = await run(path, options).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CliError);
      expect((failure as CliError).exitCode).toBe(EXIT_USAGE);
      expect((failure as CliError).message).toContain('source.seeds');
    }
  });
});
