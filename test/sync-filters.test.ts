import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentsOf,
  diffContents,
  formatDifferences,
  startCluster,
  startRedis,
  type RedisContents,
  type RedisServer,
} from '@shardbridge/testkit';
import { runCli, startCli } from './support/cli-process.js';
import { directRun, writePlanWith } from './support/plan-extras.js';
import { scratchDir, waitUntilCaughtUp } from './support/sync-harness.js';

const keyText = (base64: string) => Buffer.from(base64, 'base64').toString('latin1');

/** What the target must hold: the source's dbs through `dbMap`, minus denied dbs and keys failing `keep`. */
function expected(
  source: RedisContents,
  keep: (key: string) => boolean,
  dbMap: Record<string, number>,
  deniedDbs: number[],
): RedisContents {
  const out: RedisContents = { dbs: {} };
  for (const [db, keys] of Object.entries(source.dbs)) {
    if (deniedDbs.includes(Number(db))) continue;
    const to = String(dbMap[db] ?? db);
    for (const [key, value] of Object.entries(keys)) {
      if (!keep(keyText(key))) continue;
      (out.dbs[to] ??= {})[key] = value;
    }
  }
  for (const db of Object.keys(out.dbs)) if (Object.keys(out.dbs[db]).length === 0) delete out.dbs[db];
  return out;
}

async function assertContents(target: Redis, want: RedisContents): Promise<void> {
  const got = await contentsOf(target, { ttl: 'presence' });
  for (const db of Object.keys(got.dbs)) if (Object.keys(got.dbs[db]).length === 0) delete got.dbs[db];
  const differences = diffContents(want, got);
  if (differences.length > 0) throw new Error(formatDifferences(differences));
}

async function load(client: Redis): Promise<void> {
  const p = client.pipeline();
  for (let i = 0; i < 200; i++) {
    p.set(`keep:str:${i}`, `v${i}`);
    p.set(`drop:str:${i}`, `v${i}`);
    p.rpush(`keep:list:${i}`, 'a', 'b', String(i));
    p.rpush(`drop:list:${i}`, 'a');
    p.xadd(`keep:stream:${i % 10}`, '*', 'n', String(i));
  }
  p.set('tenant-7:session', 'x');
  p.select(3);
  for (let i = 0; i < 50; i++) p.hset(`keep:db3:${i}`, 'f', String(i));
  p.set('drop:db3', 'x');
  p.select(5);
  p.set('keep:db5', 'never synced');
  p.select(0);
  await p.exec();
}

describe('filters: the same rules on the RDB and on the command stream', () => {
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([startRedis(), startRedis(), scratchDir()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('prefix + regex keys, a denied db, dbMap 3→0, denied FLUSHDB, split DEL and MULTI/EXEC across the filter', async () => {
    const client = source.client();
    await load(client);
    // A key the target had before: FLUSHDB in db 6 is denied, so it survives.
    const targetClient = target.client();
    await targetClient.select(6);
    await targetClient.set('foreign', 'kept');
    await targetClient.select(0);
    const dir = join(scratch.path, 'filters');
    const plan = await writePlanWith(dir, source, target, {
      filter: {
        keys: { prefixes: ['keep:'], regex: '^tenant-\\d+:', mode: 'allow' },
        dbs: { deny: [5] },
        dbMap: { '3': 0 },
        commands: { deny: ['flushdb'] },
        multiKeyPolicy: 'split',
      },
    });
    const cli = startCli(directRun(plan, join(dir, 'checkpoints')));
    try {
      await cli.waitFor(/incremental/, 60_000);
      // RDB: 200 drop:str + 200 drop:list + drop:db3 + keep:db5 (denied db) left out
      await cli.waitFor(/filtered 402 keys/, 30_000);

      const live = source.client();
      await live.set('keep:live', '1');
      await live.set('drop:live', '1');
      await live.rpush('keep:list:0', 'live');
      await live.xadd('keep:stream:0', '*', 'live', '1');
      // A transaction with kept and filtered keys: only the kept ones arrive, still atomically.
      await live.multi().set('keep:tx', 'a').set('drop:tx', 'b').incr('keep:tx:n').exec();
      // A transaction with nothing kept is dropped whole.
      await live.multi().set('drop:tx:only', 'x').rpush('drop:list:0', 'y').exec();
      // Split: only the kept keys are deleted on the target.
      await live.del('keep:str:1', 'drop:str:1', 'keep:str:2');
      await live.mset('keep:m1', '1', 'drop:m1', '2', 'tenant-9:m', '3');
      await live.select(3);
      await live.set('keep:db3:live', 'mapped to 0');
      await live.select(5);
      await live.set('keep:db5:live', 'denied db');
      await live.select(6);
      await live.set('keep:db6', 'x');
      await live.flushdb();
      await live.set('keep:db6:after', 'y');
      await live.select(0);
      await waitUntilCaughtUp(cli, source);

      const want = expected(
        await contentsOf(client, { ttl: 'presence' }),
        (key) => key.startsWith('keep:') || /^tenant-\d+:/.test(key),
        { '3': 0 },
        [5],
      );
      // db 6: the source flushed it, the target did not (FLUSHDB denied).
      want.dbs['6'] = (await contentsOf(targetClient, { ttl: 'presence', dbs: [6] })).dbs['6'];
      await assertContents(targetClient, want);
      expect(await targetClient.get('keep:db3:live')).toBe('mapped to 0');
      expect(await targetClient.exists('drop:tx', 'drop:tx:only', 'keep:str:1', 'keep:str:2')).toBe(0);
      expect(await targetClient.get('keep:tx')).toBe('a');
      expect(await targetClient.lrange('keep:list:0', 0, -1)).toEqual(['a', 'b', '0', 'live']);
      const db6 = target.client();
      await db6.select(6);
      expect(await db6.get('foreign')).toBe('kept');
      expect(await db6.get('keep:db6')).toBe('x');
      expect(cli.stdout()).toMatch(/filtered 402 keys\/[1-9]\d* commands/);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 120_000);

  it('a multi-key command across the filter fails the shard naming the keys (default policy)', async () => {
    const other = await startRedis();
    const into = await startRedis();
    try {
      const dir = join(scratch.path, 'multi-key-error');
      const plan = await writePlanWith(dir, other, into, { filter: { keys: { prefixes: ['a:'] } } });
      const cli = startCli(directRun(plan, join(dir, 'checkpoints')));
      await cli.waitFor(/incremental/, 60_000);
      await other.client().set('b:1', 'x');
      await other.client().rename('b:1', 'a:1');
      expect(await cli.exited).toBe(1);
      const lastLine = cli.stderr().trim().split('\n').at(-1)!;
      expect(lastLine).toMatch(/^error: /);
      expect(lastLine).toContain('RENAME');
      expect(lastLine).toContain('"a:1"');
      expect(lastLine).toContain('"b:1"');
      expect(cli.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await Promise.all([other.stop(), into.stop()]);
    }
  }, 60_000);
});

describe('filters across a resume', () => {
  it('a checkpoint taken while the source is in a filtered db resumes there (+CONTINUE sends no SELECT)', async () => {
    const [source, target, scratch] = await Promise.all([
      startRedis({ config: { 'repl-backlog-size': '16mb' } }),
      startRedis(),
      scratchDir(),
    ]);
    try {
      const dir = join(scratch.path, 'resume');
      const plan = await writePlanWith(dir, source, target, {
        filter: { dbs: { deny: [5] }, dbMap: { '3': 0 } },
      });
      const checkpoints = join(dir, 'checkpoints');
      let cli = startCli(directRun(plan, checkpoints));
      await cli.waitFor(/incremental/, 60_000);
      // One connection that stays in db 5: after the resume the source has no reason to repeat its SELECT.
      const db5 = source.client();
      await db5.select(5);
      await db5.set('before-stop', 'denied');
      await waitUntilCaughtUp(cli, source);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      const checkpoint = JSON.parse(await readFile(join(checkpoints, 'e2e-0.checkpoint.json'), 'utf8'));
      expect(checkpoint.db).toBe(5);

      cli = startCli(directRun(plan, checkpoints));
      await cli.waitFor(/partial resync accepted/, 60_000);
      await db5.set('after-resume', 'denied too');
      const db3 = source.client();
      await db3.select(3);
      await db3.set('in-db-3', 'mapped to 0');
      await waitUntilCaughtUp(cli, source);
      const targetClient = target.client();
      expect(await targetClient.get('in-db-3')).toBe('mapped to 0');
      expect(await targetClient.exists('before-stop', 'after-resume')).toBe(0);
      expect(await targetClient.dbsize()).toBe(1);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    } finally {
      await Promise.all([source.stop(), target.stop(), scratch.remove()]);
    }
  }, 120_000);
});

describe('plan-time: a multi-db standalone source into a cluster target', () => {
  it('is refused by preflight naming the dbs; accepted and synced once dbMap maps them to 0', async () => {
    const [source, cluster, scratch] = await Promise.all([
      startRedis(),
      startCluster({ masters: 3 }),
      scratchDir(),
    ]);
    try {
      const client = source.client();
      await client.set('in-db-0', 'x');
      await client.select(3);
      await client.set('in-db-3', 'x');
      await client.select(4);
      await client.set('in-db-4', 'x');
      const [seed] = cluster.nodes;
      const to = { host: seed.host, port: seed.port, type: 'cluster' as const };
      const refused = await writePlanWith(
        scratch.path,
        source,
        to,
        { filter: { dbMap: { '3': 0 } } },
        'refused',
      );
      const result = await runCli(['discover', refused, '--local'], {}, 60_000);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/TARGET_DB_UNSUPPORTED/);
      expect(result.stdout + result.stderr).toMatch(/db 4\b/);
      expect(result.stdout + result.stderr).toContain('"4": 0');

      const accepted = await writePlanWith(
        scratch.path,
        source,
        to,
        { filter: { dbMap: { '3': 0, '4': 0 } } },
        'accepted',
      );
      const ok = await runCli(['discover', accepted, '--local'], {}, 60_000);
      expect(ok.stdout + ok.stderr).not.toMatch(/TARGET_DB_UNSUPPORTED/);
      expect(ok.code).toBe(0);

      // And the sync itself: dbs 3 and 4 land in the cluster's db 0.
      const full = await writePlanWith(
        scratch.path,
        source,
        to,
        { mode: 'full', filter: { dbMap: { '3': 0, '4': 0 } } },
        'mapped',
      );
      const run = await runCli(directRun(full, join(scratch.path, 'checkpoints')), {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      const target = cluster.client();
      expect(await Promise.all(['in-db-0', 'in-db-3', 'in-db-4'].map((key) => target.get(key)))).toEqual([
        'x',
        'x',
        'x',
      ]);
    } finally {
      await Promise.all([source.stop(), cluster.stop(), scratch.remove()]);
    }
  }, 120_000);
});
