import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  startFaultProxy,
  startRedis,
  waitFor,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { scratchDir, writePlan } from '../support/sync-harness.js';

// Issue 15, items 5 and 8: `run` (all-in-one: embedded queue, coordinator, workers) stopped by SIGINT during the
// full sync and by SIGTERM in the live stream, each within its bound, saying which shard kept no checkpoint.

const SHUTDOWN_MS = 6000;
/** Margin for a loaded 2-core machine: the assertion is "bounded", not "fast". */
const MARGIN_MS = 15_000;

describe('run (all-in-one): stopping in bounded time', () => {
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy;
  let sourceClient: Redis;
  let targetClient: Redis;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let plan: string;
  let dataDir: string;
  const alive = new Set<CliProcess>();

  const start = () => {
    const cli = startCli([
      'run',
      plan,
      '--data-dir',
      dataDir,
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
  const stopWith = async (cli: CliProcess, signal: NodeJS.Signals) => {
    const sentAt = Date.now();
    cli.child.kill(signal);
    const code = await cli.exited;
    return { code, tookMs: Date.now() - sentAt };
  };

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([startRedis(), startRedis(), scratchDir()]);
    proxy = await startFaultProxy(source);
    sourceClient = source.client();
    targetClient = target.client();
    const value = 'x'.repeat(100);
    for (let batch = 0; batch < 30; batch++) {
      const pipeline = sourceClient.pipeline();
      for (let i = 0; i < 1000; i++) pipeline.set(`bulk:${batch}:${i}`, value);
      await pipeline.exec();
    }
    const dir = join(scratch.path, 'aio');
    dataDir = join(dir, 'data');
    plan = await writePlan(dir, proxy, target, 'aio');
  });

  afterAll(async () => {
    for (const cli of alive) cli.child.kill('SIGKILL');
    await Promise.all([...alive].map((cli) => cli.exited));
    await Promise.all([proxy?.close(), source?.stop(), target?.stop()]);
    await scratch?.remove();
  });

  it('SIGINT during the full sync, then SIGTERM in the live stream: each within its bound; data equal', async () => {
    proxy.setRateLimit(500_000);
    const first = start();
    await first.waitFor(/full-sync .*keys [1-9]/, 60_000);
    const stopped = await stopWith(first, 'SIGINT');
    expect(stopped.code, first.stdout()).toBe(0);
    expect(stopped.tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
    expect(first.stdout()).toContain('press Ctrl-C again to exit at once');
    expect(first.stdout()).toMatch(/no checkpoint for \S+ \(\d+ keys loaded\): stopped during the full sync/);
    proxy.setRateLimit(0);

    const second = start();
    await second.waitFor(/\] incremental/, 60_000);
    await sourceClient.set('live', '1');
    await waitFor(
      'the live write on the target',
      async () => (await targetClient.get('live')) === '1',
      30_000,
    );
    await assertSameContents(sourceClient, targetClient);
    const live = await stopWith(second, 'SIGTERM');
    expect(live.code, second.stdout()).toBe(0);
    expect(live.tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
    expect(second.stdout()).toContain('stopped; run again to resume from the checkpoints');
  }, 120_000);
});
