import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { startCli, type CliProcess } from '../support/cli-process.js';
import {
  scratchDir,
  startIdempotentWrites,
  syncCounters,
  waitUntilCaughtUp,
  writePlan,
} from '../support/sync-harness.js';

// Issue 15, items 5 and 8: `run --direct` stops within the bound it prints, during the full sync and the live
// stream, also with the target paused, and its last line states only what it saved.

/** The bound under test (`--shutdown-timeout`); the shard's own flush/checkpoint gets half of it. */
const SHUTDOWN_MS = 6000;
/** Margin for a loaded 2-core machine: the assertion is "bounded", not "fast". */
const MARGIN_MS = 15_000;
const CHECKPOINT_FILE = 'life-0.checkpoint.json';

describe('run --direct: stopping in bounded time, saying what was saved', () => {
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy;
  let sourceClient: Redis;
  let targetClient: Redis;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let plan: string;
  let dir: string;
  const alive = new Set<CliProcess>();

  const start = () => {
    const cli = startCli([
      'run',
      '--direct',
      plan,
      '--checkpoint-dir',
      dir,
      '--shutdown-timeout',
      String(SHUTDOWN_MS),
      '--progress-interval',
      '200',
      '--log-level',
      'warn',
    ]);
    alive.add(cli);
    void cli.exited.then(() => alive.delete(cli));
    return cli;
  };

  /** Sends `signal` and returns the exit code and how long the exit took. */
  const stopWith = async (cli: CliProcess, signal: NodeJS.Signals) => {
    const sentAt = Date.now();
    cli.child.kill(signal);
    const code = await cli.exited;
    return { code, tookMs: Date.now() - sentAt };
  };

  const hasCheckpoint = () =>
    access(join(dir, CHECKPOINT_FILE)).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([startRedis(), startRedis(), scratchDir()]);
    proxy = await startFaultProxy(source);
    sourceClient = source.client();
    targetClient = target.client();
    // ~3 MB of RDB: at 500 kB/s through the proxy the full sync lasts long enough to be interrupted.
    const value = 'x'.repeat(100);
    for (let batch = 0; batch < 30; batch++) {
      const pipeline = sourceClient.pipeline();
      for (let i = 0; i < 1000; i++) pipeline.set(`bulk:${batch}:${i}`, value);
      await pipeline.exec();
    }
    dir = join(scratch.path, 'run');
    plan = await writePlan(dir, proxy, target, 'life');
  });

  afterAll(async () => {
    for (const cli of alive) cli.child.kill('SIGKILL');
    await Promise.all([...alive].map((cli) => cli.exited));
    await Promise.all([proxy?.close(), source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('SIGINT during the full sync: exits 0 within its bound, no checkpoint claimed or written', async () => {
    proxy.setRateLimit(500_000);
    const cli = start();
    await cli.waitFor(/full-sync .*keys [1-9]/, 60_000);
    const { code, tookMs } = await stopWith(cli, 'SIGINT');
    expect(code, cli.stdout()).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
    expect(cli.stdout()).toContain('press Ctrl-C again to exit at once');
    expect(cli.stdout()).toMatch(
      /stopped during the full sync: \d+ keys loaded are kept on the target, no checkpoint: the next run starts a new full sync/,
    );
    expect(cli.stdout()).not.toContain('checkpoint in');
    expect(cli.stdout()).not.toMatch(/lag 0 B/);
    expect(await hasCheckpoint()).toBe(false);
    proxy.setRateLimit(0);
  });

  it('SIGTERM during the live stream: checkpoint saved; a restart resumes with +CONTINUE to equal data', async () => {
    const first = start();
    await first.waitFor(/\] incremental/, 60_000);
    const writes = startIdempotentWrites(sourceClient);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { code, tookMs } = await stopWith(first, 'SIGTERM');
      expect(code, first.stdout()).toBe(0);
      expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
      expect(first.stdout()).toMatch(/stopped at offset \d+ of [0-9a-f]{40}; checkpoint in /);
      expect(await hasCheckpoint()).toBe(true);
      const before = await syncCounters(source);
      const second = start();
      await second.waitFor(/\] incremental/, 60_000);
      expect((await syncCounters(source)).partialOk).toBe(before.partialOk + 1);
      await writes.stop();
      await waitUntilCaughtUp(second, source);
      await assertSameContents(sourceClient, targetClient);
      expect((await stopWith(second, 'SIGINT')).code).toBe(0);
    } finally {
      await writes.stop();
    }
  });

  it('target paused while stopping: exits within its bound keeping the last confirmed checkpoint; a second SIGINT exits at once', async () => {
    const cli = start();
    await cli.waitFor(/\] incremental/, 60_000);
    const writes = startIdempotentWrites(sourceClient);
    const admin = target.client();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { code, tookMs } = await stopWith(cli, 'SIGINT');
      expect(code, cli.stdout()).toBe(0);
      expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
      expect(cli.stdout()).toMatch(
        /the target did not confirm every write in time: checkpoint at the last confirmed offset \d+/,
      );

      // A second signal does not wait for the paused target at all.
      const impatient = start();
      await impatient.waitFor(/\] incremental/, 60_000);
      impatient.child.kill('SIGINT');
      await impatient.waitFor(/press Ctrl-C again/);
      const { code: forced, tookMs: forcedMs } = await stopWith(impatient, 'SIGINT');
      expect(forced).toBe(1);
      expect(forcedMs).toBeLessThan(MARGIN_MS);
      expect(impatient.stdout()).toContain('second SIGINT: exiting at once; nothing more is saved');
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
      await writes.stop();
    }
    const last = start();
    await last.waitFor(/\] incremental/, 60_000);
    await waitUntilCaughtUp(last, source);
    await assertSameContents(sourceClient, targetClient);
    expect((await stopWith(last, 'SIGTERM')).code).toBe(0);
  });
});
