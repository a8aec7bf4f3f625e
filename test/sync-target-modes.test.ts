import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  loadEveryType,
  startFaultProxy,
  startRedis,
  waitFor,
  type RedisServer,
} from '@shardbridge/testkit';
import { runCli, startCli } from './support/cli-process.js';
import { directRun, writePlanWith } from './support/plan-extras.js';
import { scratchDir, waitUntilCaughtUp } from './support/sync-harness.js';

describe('mode "full" and targetMode', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const servers: RedisServer[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    scratch = await scratchDir();
  });
  afterEach(async () => {
    await Promise.all([
      ...servers.splice(0).map((server) => server.stop()),
      ...closers.splice(0).map((close) => close()),
    ]);
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  async function pair(sourceConfig: Record<string, string> = {}) {
    const [source, target] = await Promise.all([startRedis({ config: sourceConfig }), startRedis()]);
    servers.push(source, target);
    return { source, target };
  }

  it('mode full: exits 0 once the target confirmed the RDB; target equals the snapshot; expired keys skipped', async () => {
    const { source, target } = await pair({ 'enable-debug-command': 'yes' });
    const client = source.client();
    await loadEveryType(client, { keysPerType: 50 });
    // Expired but still in the keyspace (no active expiry, never read): it is in the RDB, already dead.
    await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await client.set('already:expired', 'x', 'PX', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const dir = join(scratch.path, 'full');
    const plan = await writePlanWith(dir, source, target, { mode: 'full' });
    const result = await runCli(directRun(plan, join(dir, 'checkpoints')), {}, 60_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/full sync complete: \d+ keys written/);
    expect(result.stdout).toMatch(/expired 1/);
    expect(result.stdout).toMatch(/\] completed/);
    await assertSameContents(client, target.client(), { streamEntriesRead: 'ignore' });
    expect(await target.client().exists('already:expired')).toBe(0);
  }, 60_000);

  it('kill -9 mid-RDB, then a full resync into the half-written target: nothing doubled, equal', async () => {
    const { source, target } = await pair();
    const client = source.client();
    const p = client.pipeline();
    for (let i = 0; i < 4000; i++) {
      p.rpush(`list:${i}`, 'a', 'b', 'c', 'd', String(i));
      if (i % 5 === 0) for (let j = 1; j <= 5; j++) p.xadd(`stream:${i}`, `${j}-0`, 'n', String(j));
      p.set(`str:${i}`, `v${i}`);
    }
    await p.exec();
    const total = await client.dbsize();
    // A slow path to the target: the writer's in-flight window makes the RDB phase last seconds.
    const proxy = await startFaultProxy({ host: target.host, port: target.port });
    closers.push(() => proxy.close());
    proxy.setDelay(100);
    const dir = join(scratch.path, 'kill-mid-rdb');
    const plan = await writePlanWith(dir, source, { host: proxy.host, port: proxy.port }, {});
    const checkpoints = join(dir, 'checkpoints');
    let cli = startCli(directRun(plan, checkpoints));
    const targetClient = target.client();
    await waitFor(
      'the first 1000 keys on the target',
      async () => (await targetClient.dbsize()) >= 1000,
      60_000,
    );
    cli.child.kill('SIGKILL');
    await cli.exited;
    const halfWritten = await targetClient.dbsize();
    expect(halfWritten).toBeLessThan(total);

    proxy.setDelay(0);
    cli = startCli(directRun(plan, checkpoints));
    try {
      await cli.waitFor(/incremental/, 60_000);
      await waitUntilCaughtUp(cli, source);
      expect(await targetClient.llen('list:0')).toBe(5);
      expect(await targetClient.xlen('stream:0')).toBe(5);
      await assertSameContents(client, targetClient);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 120_000);

  it('fail-if-not-empty: refuses a target with keys, naming it and the db, before writing anything', async () => {
    const { source, target } = await pair();
    await source.client().set('src', '1');
    const targetClient = target.client();
    await targetClient.select(2);
    await targetClient.set('already-here', '1');
    const dir = join(scratch.path, 'fail-if-not-empty');
    const plan = await writePlanWith(dir, source, target, { mode: 'full', targetMode: 'fail-if-not-empty' });
    const result = await runCli(directRun(plan, join(dir, 'checkpoints')), {}, 60_000);
    expect(result.code).toBe(1);
    const lastLine = result.stderr.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(/^error: .*fail-if-not-empty/);
    expect(lastLine).toContain(`${target.host}:${target.port} in db 2`);
    const db0 = target.client();
    expect(await db0.dbsize()).toBe(0);

    await targetClient.flushall();
    const again = await runCli(directRun(plan, join(dir, 'checkpoints')), {}, 60_000);
    expect(again.code).toBe(0);
    expect(await db0.get('src')).toBe('1');
  }, 60_000);

  it('skip-existing: keys the target has are kept and counted, the rest copied', async () => {
    const { source, target } = await pair();
    const client = source.client();
    await client.set('str:1', 'source-value');
    await client.rpush('list:1', 'a', 'b');
    await client.set('str:2', 'copied');
    await client.rpush('list:2', 'x');
    const targetClient = target.client();
    await targetClient.set('str:1', 'target-value');
    await targetClient.rpush('list:1', 't');
    const dir = join(scratch.path, 'skip-existing');
    const plan = await writePlanWith(dir, source, target, { mode: 'full', targetMode: 'skip-existing' });
    const result = await runCli(directRun(plan, join(dir, 'checkpoints')), {}, 60_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/kept existing 2/);
    expect(await targetClient.get('str:1')).toBe('target-value');
    expect(await targetClient.lrange('list:1', 0, -1)).toEqual(['t']);
    expect(await targetClient.get('str:2')).toBe('copied');
    expect(await targetClient.lrange('list:2', 0, -1)).toEqual(['x']);
  }, 60_000);

  it('flush-first: refused without confirm; with it, the target ends up equal to the source', async () => {
    const { source, target } = await pair();
    const client = source.client();
    await loadEveryType(client, { keysPerType: 20 });
    const targetClient = target.client();
    await targetClient.set('foreign', 'gone after the flush');
    await targetClient.rpush('list:1', 'stale');
    const dir = join(scratch.path, 'flush-first');
    const unconfirmed = await writePlanWith(dir, source, target, { mode: 'full', targetMode: 'flush-first' });
    const refused = await runCli(directRun(unconfirmed, join(dir, 'checkpoints')), {}, 30_000);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/confirm: .*"confirm": true/);
    expect(await targetClient.exists('foreign')).toBe(1);

    const plan = await writePlanWith(dir, source, target, {
      mode: 'full',
      targetMode: 'flush-first',
      confirm: true,
    });
    const result = await runCli(directRun(plan, join(dir, 'checkpoints')), {}, 60_000);
    expect(result.code).toBe(0);
    await assertSameContents(client, targetClient, { streamEntriesRead: 'ignore' });
  }, 60_000);

  it('all-in-one run (coordinator, queue, worker): mode full with a filter completes and the status says so', async () => {
    const { source, target } = await pair();
    const client = source.client();
    for (let i = 0; i < 100; i++) await client.set(i % 2 ? `keep:${i}` : `drop:${i}`, String(i));
    const dir = join(scratch.path, 'all-in-one-full');
    const plan = await writePlanWith(dir, source, target, {
      mode: 'full',
      filter: { keys: { prefixes: ['keep:'] } },
    });
    const result = await runCli(
      ['run', plan, '--data-dir', join(dir, 'data'), '--progress-interval', '200'],
      {},
      90_000,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\] completed .*filtered 50 keys/);
    expect(result.stdout).toMatch(/full sync complete: every shard/);
    const targetClient = target.client();
    expect(await targetClient.dbsize()).toBe(50);
    expect(await targetClient.keys('drop:*')).toEqual([]);
  }, 120_000);
});
