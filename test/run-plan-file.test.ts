import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { scratchDir, writePlan } from './support/sync-harness.js';

// Issue 15, item 3: `run` in a directory whose queue holds a plan of the same name resumes it only when the file
// still says the same; a changed file is refused (exit 2) naming the fields and `--replan`.

describe('shardbridge run with a stored plan of the same name', () => {
  let source: RedisServer;
  let first: RedisServer;
  let second: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, first, second, scratch] = await Promise.all([
      startRedis({ role: 'source' }),
      startRedis({ role: 'target' }),
      startRedis({ role: 'target' }),
      scratchDir(),
    ]);
    const client = source.client();
    for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), first?.stop(), second?.stop(), scratch?.remove()]);
  });

  async function fullPlan(target: RedisServer): Promise<string> {
    const file = await writePlan(scratch.path, source, target, 'moving');
    const plan = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...plan, mode: 'full' }, null, 2));
    return file;
  }

  const args = (file: string, ...more: string[]) => [
    'run',
    file,
    '--data-dir',
    join(scratch.path, 'data'),
    '--progress-interval',
    '200',
    ...more,
  ];

  it('syncs, resumes the unchanged file, refuses the changed one, and re-plans with --replan', async () => {
    let file = await fullPlan(first);
    let cli = startCli(args(file));
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(await first.client().dbsize()).toBe(200);

    // The same file again: the stored plan is resumed.
    cli = startCli(args(file));
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(/resuming plan/);

    // The target changed in the file: refused, nothing dialled, the stored plan untouched.
    file = await fullPlan(second);
    cli = startCli(args(file));
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(
      /differs from the stored plan \w+ of the same name "moving" in: target\.seeds/,
    );
    expect(cli.stderr()).toContain(`shardbridge run --replan ${file}`);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
    expect(await second.client().dbsize()).toBe(0);

    // --replan: the file wins, into the new target.
    cli = startCli(args(file, '--replan'));
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(/planned again from the file/);
    expect(await second.client().dbsize()).toBe(200);
  });

  it('run --direct: a checkpoint made with another target is not resumed; --replan starts over', async () => {
    const direct = join(scratch.path, 'direct');
    const file = await writePlan(direct, source, first, 'direct-moving');
    const directArgs = (...more: string[]) => [
      'run',
      '--direct',
      file,
      '--checkpoint-dir',
      join(direct, 'ck'),
      '--progress-interval',
      '200',
      ...more,
    ];
    let cli = startCli(directArgs());
    await cli.waitFor(/incremental/);
    cli.child.kill('SIGTERM');
    await cli.exited;

    await writePlan(direct, source, second, 'direct-moving');
    await second.client().flushall();
    cli = startCli(directArgs());
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/differs from the plan the checkpoint .* was made with, in: target\.seeds/);
    expect(cli.stderr()).toContain('--replan');
    expect(await second.client().dbsize()).toBe(0);

    cli = startCli(directArgs('--replan'));
    await cli.waitFor(/incremental/);
    expect(await second.client().dbsize()).toBe(200);
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
});
