import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { runCli } from './support/cli-process.js';
import {
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';
import { scratchDir } from './support/sync-harness.js';

const corpus = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'shared', 'rdb-corpus');

describe('shardbridge CLI', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  beforeAll(async () => {
    scratch = await scratchDir();
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  it('--help lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['run', 'rdb', 'demo']) expect(result.stdout).toContain(command);
  });

  it('refuses an invalid plan with exit 2, naming each field and reason', async () => {
    const plan = join(scratch.path, 'bad.plan.json');
    await writeFile(
      plan,
      JSON.stringify({
        name: 'bad name',
        source: { type: 'standalone', seeds: ['nohost'] },
        target: { type: 'x', seeds: [] },
      }),
    );
    const result = await runCli(['run', plan]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('name:');
    expect(result.stderr).toMatch(/source\.seeds\[0\]: expected "host:port"/);
    expect(result.stderr).toContain('target.type:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a plan that is not JSON, and a missing plan file, with exit 2', async () => {
    const plan = join(scratch.path, 'broken.plan.json');
    await writeFile(plan, '{"name": "x",');
    expect((await runCli(['run', plan])).stderr).toMatch(/not valid JSON/);
    const missing = await runCli(['run', join(scratch.path, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read plan .*ENOENT/);
  });

  describe.skipIf(!existsSync(corpus))('rdb inspect', () => {
    const name = 'redis-7.2.6-types';

    it('prints the canonical JSON Lines of a corpus file', async () => {
      const result = await runCli(['rdb', 'inspect', join(corpus, 'files', `${name}.rdb`)]);
      expect(result.code).toBe(0);
      const expected = (await readFile(join(corpus, 'expected', `${name}.jsonl`), 'utf8')).trim().split('\n');
      const actual = result.stdout.trim().split('\n');
      expect(actual).toHaveLength(expected.length);
      // Key order and key names match line by line; full value equality is the rdb package's corpus test.
      expect(actual.map((line) => JSON.parse(line).key)).toEqual(
        expected.map((line) => JSON.parse(line).key),
      );
    });

    it('ends a truncated file with one error line naming the byte offset', async () => {
      const whole = await readFile(join(corpus, 'files', `${name}.rdb`));
      const cut = join(scratch.path, 'truncated.rdb');
      await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      const result = await runCli(['rdb', 'inspect', cut]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`error: .*offset ${Math.floor(whole.length / 2)}`));
    });
  });
});

describe('shardbridge CLI: plan errors and API flags alike in every command', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let queue: RedisServer;
  let target: RedisServer;
  let plane: InProcessControlPlane;
  beforeAll(async () => {
    scratch = await scratchDir();
    [queue, target] = await Promise.all([startRedis(), startRedis()]);
    plane = await startInProcessControlPlane(queue, { workers: 0 });
  });
  afterAll(async () => {
    await plane?.close();
    await Promise.all([queue?.stop(), target?.stop()]);
    await scratch?.remove();
  });

  async function planFile(name: string, plan: unknown): Promise<string> {
    const file = join(scratch.path, `${name}.json`);
    await writeFile(file, JSON.stringify(plan));
    return file;
  }

  it('run, submit and discover print an invalid plan the same way: a line per problem, once, exit 2', async () => {
    const file = await planFile('missing-target', {
      name: 'bad name',
      source: { type: 'standalone', seeds: ['127.0.0.1:6379'] },
    });
    const expected = [
      expect.stringMatching(new RegExp(`^error: ${file}: name: use 1-64 letters`)),
      `error: ${file}: target: is required`,
    ];
    const outputs: string[] = [];
    for (const args of [
      ['run', file],
      ['submit', file, '--api', plane.url],
      ['discover', file],
      ['discover', file, '--api', plane.url],
    ]) {
      const result = await runCli(args);
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toEqual(expected);
      outputs.push(result.stderr);
    }
    expect(new Set(outputs).size).toBe(1);
  });

  it("prints the coordinator's refusal of a plan in the same format", async () => {
    const file = await planFile('literal-password', {
      name: 'literal',
      source: { type: 'standalone', seeds: ['127.0.0.1:6379'] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`], password: 'hunter2' },
    });
    for (const command of ['submit', 'discover']) {
      const result = await runCli([command, file, '--api', plane.url]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`^error: ${file}: target\\.password: passwords travel in job data`),
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toContain('hunter2');
    }
  });

  it('a plan whose preflight fails exits 1 from submit and from discover', async () => {
    const seed = `127.0.0.1:${await freePort()}`;
    const file = await planFile('unreachable', {
      name: 'unreachable',
      source: { type: 'standalone', seeds: [seed] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    });
    const submitted = await runCli(['submit', file, '--api', plane.url]);
    expect(submitted.code, submitted.stderr).toBe(1);
    const lines = submitted.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: preflight found 1 problem\\(s\\): .*${seed}.*\\(fix: `));
    expect(lines[0]).toMatch(/\(PREFLIGHT_FAILED\); check the plan with `shardbridge discover <plan file>`/);
    for (const args of [
      ['discover', file],
      ['discover', file, '--api', plane.url],
    ]) {
      const discovered = await runCli(args);
      expect(discovered.code, discovered.stderr).toBe(1);
      expect(discovered.stdout).toContain('PREFLIGHT_UNREACHABLE');
    }
  });

  it('--api (or SHARDBRIDGE_API) without a scheme names the flag and the expected form, exit 2', async () => {
    const flagged = await runCli(['status', 'someplan', '--api', '127.0.0.1:27300']);
    expect(flagged.code).toBe(2);
    expect(flagged.stderr.split('\n')[0]).toMatch(
      /^error: option '--api <url>' argument '127\.0\.0\.1:27300' is invalid\. .*http\(s\):\/\/host:port/,
    );
    const fromEnv = await runCli(['plans'], { SHARDBRIDGE_API: '127.0.0.1:27300' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(/--api .*SHARDBRIDGE_API.*http\(s\):\/\/host:port/);
  });
});
