import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
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
