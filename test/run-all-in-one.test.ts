import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, startRedis, type RedisServer } from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import {
  scratchDir,
  startIdempotentWrites,
  syncCounters,
  waitUntilCaughtUp,
  writePlan,
} from './support/sync-harness.js';

describe('shardbridge run (all-in-one, embedded queue): stop, crash and resume', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startRedis({ role: 'source', config: { 'repl-backlog-size': '64mb' } }),
      startRedis({ role: 'target' }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('resumes the same plan from its checkpoint after SIGTERM and after kill -9', async () => {
    const client = source.client();
    for (let i = 0; i < 500; i++) await client.set(`k${i}`, `v${i}`);
    const plan = await writePlan(scratch.path, source, target, 'aio');
    const args = ['run', plan, '--data-dir', join(scratch.path, 'data'), '--progress-interval', '200'];

    let cli = startCli(args);
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/run again to resume/);
    const afterFirst = await syncCounters(source);

    // Changes while nothing replicates, then a restart: same plan, partial resync.
    for (let i = 0; i < 100; i++) await client.set(`k${i}`, `changed${i}`);
    cli = startCli(args);
    await cli.waitFor(/resuming plan/);
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);
    const afterSecond = await syncCounters(source);
    expect(afterSecond.full).toBe(afterFirst.full);
    expect(afterSecond.partialOk).toBe(afterFirst.partialOk + 1);

    // A crash: the embedded queue survives it and is reused; the stalled job is taken over after the lock lapses.
    const writes = startIdempotentWrites(client);
    await new Promise((resolve) => setTimeout(resolve, 300));
    cli.child.kill('SIGKILL');
    await cli.exited;
    cli = startCli(args);
    await cli.waitFor(/\(reused\)/);
    await writes.stop();
    await cli.waitFor(/resuming plan/);
    const deadline = Date.now() + 60_000;
    while ((await syncCounters(source)).partialOk < afterSecond.partialOk + 1) {
      if (Date.now() > deadline)
        throw new Error(`no partial resync after the crash\n${cli.stdout().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await waitUntilCaughtUp(cli, source);
    await assertSameContents(client, target.client());
    expect((await syncCounters(source)).full).toBe(afterFirst.full);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 180_000);
});
