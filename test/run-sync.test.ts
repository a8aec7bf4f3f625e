import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  loadEveryType,
  startRedis,
  writeEveryCommandOnce,
  type RedisServer,
} from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';

// Consumer groups' entries-read is left out of every comparison: Redis 7.0 does not replicate it exactly once
// entries were deleted (a native replica of the same source shows the same difference).

import {
  scratchDir,
  startBenchmark,
  startIdempotentWrites,
  syncCounters,
  waitUntilCaughtUp,
  writePlan,
} from './support/sync-harness.js';

/** Seconds of live writes during the full sync (the issue asks for 30). */
const WRITE_SECONDS = Number(process.env.SHARDBRIDGE_E2E_WRITE_SECONDS ?? 30);
const BIG_KEY_BYTES = 50 * 1024 * 1024;

const runArgs = (plan: string, checkpoints: string) => [
  'run',
  '--direct',
  plan,
  '--checkpoint-dir',
  checkpoints,
  '--progress-interval',
  '200',
  '--log-level',
  'info',
];

describe('shardbridge run: full sync under load, then the live stream', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startRedis({ role: 'source' }),
      startRedis({ role: 'target' }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('copies every type, several dbs, expiries, functions and a 50 MB key while writes go on, then equals the source', async () => {
    const client = source.client();
    await loadEveryType(client, { keysPerType: 300, bigKeyBytes: BIG_KEY_BYTES });
    const plan = await writePlan(scratch.path, source, target);
    const cli = startCli(runArgs(plan, join(scratch.path, 'checkpoints')));
    let offset = -1;
    try {
      // Writes start with the sync: they land in the master's buffer during the RDB transfer and in the stream.
      const benchmark = startBenchmark(source);
      const until = Date.now() + WRITE_SECONDS * 1000;
      let rounds = 0;
      while (Date.now() < until) await writeEveryCommandOnce(client, rounds++);
      await benchmark.stop();
      await cli.waitFor(/incremental/, 120_000);
      offset = await waitUntilCaughtUp(cli, source);
      expect(rounds).toBeGreaterThan(10);
      expect(offset).toBeGreaterThan(0);
      await assertSameContents(client, target.client(), { streamEntriesRead: 'ignore' });
      const targetBig = await target.client().strlen('big:string');
      expect(targetBig).toBe(BIG_KEY_BYTES);
      expect(await target.client().call('FUNCTION', 'LIST', 'LIBRARYNAME', 'shardbridge_demo')).toHaveLength(
        1,
      );
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
    const checkpoint = JSON.parse(
      await readFile(join(scratch.path, 'checkpoints', 'e2e-0.checkpoint.json'), 'utf8'),
    );
    // SIGTERM flushed and saved the position it had confirmed.
    expect(checkpoint.offset).toBeGreaterThanOrEqual(offset);
  }, 300_000);
});

describe('shardbridge run: resume with +CONTINUE', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      // A backlog that comfortably covers the seconds a restart takes, as a production source should have.
      startRedis({ role: 'source', config: { 'repl-backlog-size': '64mb' } }),
      startRedis({ role: 'target' }),
      scratchDir(),
    ]);
    await loadEveryType(source.client(), { keysPerType: 50 });
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('survives CLIENT KILL TYPE replica and kill -9 of the process without a full resync', async () => {
    const client = source.client();
    const plan = await writePlan(scratch.path, source, target);
    const checkpoints = join(scratch.path, 'checkpoints');
    let cli = startCli(runArgs(plan, checkpoints));
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);
    const afterFirstSync = await syncCounters(source);
    expect(afterFirstSync.full).toBe(1);

    // 1. The source drops the replica link mid-stream.
    const writes = startIdempotentWrites(client);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await client.client('KILL', 'TYPE', 'replica');
    await cli.waitFor(/partial resync accepted/);
    await new Promise((resolve) => setTimeout(resolve, 500));

    // 2. The process dies without a chance to flush or checkpoint, while writes go on.
    cli.child.kill('SIGKILL');
    await cli.exited;
    await new Promise((resolve) => setTimeout(resolve, 300));
    cli = startCli(runArgs(plan, checkpoints));
    await cli.waitFor(/partial resync accepted/);
    await writes.stop();
    await waitUntilCaughtUp(cli, source);
    await assertSameContents(client, target.client(), { streamEntriesRead: 'ignore' });

    const counters = await syncCounters(source);
    expect(counters.full).toBe(afterFirstSync.full);
    expect(counters.partialOk).toBeGreaterThanOrEqual(afterFirstSync.partialOk + 2);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 180_000);
});

describe('shardbridge run: backlog too small for the gap', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startRedis({ role: 'source', config: { 'repl-backlog-size': '16kb' } }),
      startRedis({ role: 'target' }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('falls back to a clean full resync without duplicating list elements', async () => {
    const client = source.client();
    await client.rpush('queue', 'a', 'b', 'c');
    const plan = await writePlan(scratch.path, source, target);
    const checkpoints = join(scratch.path, 'checkpoints');
    let cli = startCli(runArgs(plan, checkpoints));
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);

    // Far more than the 16 kB backlog while nobody replicates.
    const filler = 'x'.repeat(1000);
    for (let i = 0; i < 100; i++) await client.rpush('queue', `${i}-${filler}`);
    const before = await syncCounters(source);

    cli = startCli(runArgs(plan, checkpoints));
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);
    const after = await syncCounters(source);
    expect(after.full).toBe(before.full + 1);
    expect(await target.client().llen('queue')).toBe(103);
    await assertSameContents(client, target.client(), { streamEntriesRead: 'ignore' });
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 120_000);
});
