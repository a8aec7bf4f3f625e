import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  diffContents,
  formatDifferences,
  loadEveryType,
  startCluster,
  startRedis,
  waitFor,
  writeEveryCommandOnce,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { loadClusterData, startClusterWrites } from '../control-plane/support/cluster-data.js';
import { ClusterRouter, clusterContents } from '../control-plane/support/cluster-router.js';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { scratchDir, waitUntilCaughtUp } from '../support/sync-harness.js';

const OPERATIONS = fileURLToPath(new URL('../../docs/operations.md', import.meta.url));
const SOURCE_PASSWORD = 'acl-source-pw-5e1';
const TARGET_PASSWORD = 'acl-target-pw-9c4';

/**
 * The ACL lines of docs/operations.md by their marker (`<!-- acl:NAME -->` before a fenced `user …` line), and the
 * rules it says to append in some cases (`<!-- acl-extra:NAME -->` before a fenced line of rules).
 */
async function documentedAcl(): Promise<{ lines: Map<string, string>; extras: Map<string, string[]> }> {
  const text = await readFile(OPERATIONS, 'utf8');
  const lines = new Map<string, string>();
  for (const match of text.matchAll(/<!-- acl:([a-z-]+) -->\s*```\w*\n(user [^\n]+)\n```/g)) {
    lines.set(match[1], match[2]);
  }
  const extras = new Map<string, string[]>();
  for (const match of text.matchAll(/<!-- acl-extra:([a-z-]+) -->\s*```\w*\n([^\n]+)\n```/g)) {
    extras.set(match[1], match[2].trim().split(/\s+/));
  }
  return { lines, extras };
}

/** Creates the user of an ACL-file line (`user NAME rules…`) exactly as written, with `password` for CHANGE-ME. */
async function createUser(server: RedisServer, line: string, password: string, extra: string[] = []) {
  const [keyword, name, ...rules] = line.split(/\s+/);
  expect(keyword).toBe('user');
  const withPassword = rules.map((rule) => (rule === '>CHANGE-ME' ? `>${password}` : rule));
  await server.client().call('ACL', 'SETUSER', name, 'reset', ...withPassword, ...extra);
  return name;
}

/**
 * Commands an ACL user was refused, from `ACL LOG`. The preflight's `ACL DRYRUN` probe is optional (it falls back
 * to `COMMAND INFO`), so its refusal is expected with the minimal lines; `expected` names more such probes.
 */
async function refusals(server: RedisServer, expected: string[] = []): Promise<string[]> {
  const entries = (await server.client().call('ACL', 'LOG', '128')) as unknown[][];
  return entries
    .map((entry) => {
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
      return `${String(fields.get('reason'))}:${String(fields.get('object'))}`;
    })
    .filter((refusal) => !/^command:acl\|/.test(refusal) && !expected.includes(refusal));
}

/**
 * Every ACL line of docs/operations.md, created exactly as written on a real redis-server, carries a real sync
 * through `shardbridge run` (the coordinator's discovery and preflight, then a worker): full sync, live writes of
 * every command family, functions, and the target equal to the source; and Redis refused nothing but the optional
 * preflight probe.
 */
describe('documented ACL lines (docs/operations.md)', () => {
  let acl: Map<string, string>;
  let extras: Map<string, string[]>;
  let source: RedisServer | undefined;
  let target: RedisServer | undefined;
  let scratch: Awaited<ReturnType<typeof scratchDir>> | undefined;
  let cli: CliProcess | undefined;

  beforeAll(async () => {
    ({ lines: acl, extras } = await documentedAcl());
    expect([...extras.keys()].sort()).toEqual(['cluster-source', 'cluster-target', 'scan-target']);
    expect([...acl.keys()].sort()).toEqual([
      'replication-source',
      'scan-source',
      'target',
      'target-no-flush',
    ]);
  });
  afterEach(async () => {
    cli?.child.kill('SIGKILL');
    await cli?.exited;
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
    cli = source = target = scratch = undefined;
  });

  async function start(sourceLine: string, targetLine: string, targetExtra: string[] = []) {
    [source, target, scratch] = await Promise.all([startRedis(), startRedis(), scratchDir()]);
    const users = {
      source: await createUser(source, sourceLine, SOURCE_PASSWORD),
      target: await createUser(target, targetLine, TARGET_PASSWORD, targetExtra),
    };
    await loadEveryType(source.client(), { keysPerType: 20 });
    await source
      .client()
      .call(
        'FUNCTION',
        'LOAD',
        "#!lua name=acllib\nredis.register_function('acl_one', function() return 1 end)",
      );
    return users;
  }

  async function runPlan(users: { source: string; target: string }, extra: Record<string, unknown>) {
    const plan = {
      name: 'acl',
      source: {
        type: 'standalone',
        seeds: [`127.0.0.1:${source!.port}`],
        username: users.source,
        password: 'env:SB_ACL_SOURCE_PASSWORD',
      },
      target: {
        type: 'standalone',
        seeds: [`127.0.0.1:${target!.port}`],
        username: users.target,
        password: 'env:SB_ACL_TARGET_PASSWORD',
        ...(extra.target as object),
      },
      ...Object.fromEntries(Object.entries(extra).filter(([name]) => name !== 'target')),
    };
    const file = join(scratch!.path, 'plan.json');
    await writeFile(file, JSON.stringify(plan));
    cli = startCli(['run', file, '--data-dir', join(scratch!.path, 'data'), '--progress-interval', '200'], {
      SB_ACL_SOURCE_PASSWORD: SOURCE_PASSWORD,
      SB_ACL_TARGET_PASSWORD: TARGET_PASSWORD,
    });
    return cli;
  }

  async function liveWrites(): Promise<void> {
    for (let round = 0; round < 5; round++) await writeEveryCommandOnce(source!.client(), round);
    await source!
      .client()
      .call(
        'FUNCTION',
        'LOAD',
        "#!lua name=acllive\nredis.register_function('acl_two', function() return 2 end)",
      );
  }

  async function expectStopsCleanly(expectedSourceRefusals: string[] = []): Promise<void> {
    cli!.child.kill('SIGTERM');
    expect(await cli!.exited, cli!.stderr()).toBe(0);
    expect(await refusals(source!, expectedSourceRefusals)).toEqual([]);
    expect(await refusals(target!)).toEqual([]);
  }

  it('replication source + target: full sync and live writes', async () => {
    const users = await start(acl.get('replication-source')!, acl.get('target')!);
    const run = await runPlan(users, {});
    await run.waitFor(/incremental/, 120_000);
    await liveWrites();
    await waitUntilCaughtUp(run, source!);
    await assertSameContents(source!.client(), target!.client(), { streamEntriesRead: 'ignore' });
    await expectStopsCleanly();
  }, 180_000);

  it('replication source + target without FLUSHALL: rewrite and filters', async () => {
    const users = await start(acl.get('replication-source')!, acl.get('target-no-flush')!);
    const run = await runPlan(users, {
      target: { rewrite: 'always' },
      filter: { keys: { mode: 'deny', prefixes: ['acl-dropped:'] } },
    });
    await run.waitFor(/incremental/, 120_000);
    await liveWrites();
    await source!.client().set('acl-dropped:x', '1');
    await waitUntilCaughtUp(run, source!);
    await source!.client().del('acl-dropped:x');
    await assertSameContents(source!.client(), target!.client(), { streamEntriesRead: 'ignore' });
    await expectStopsCleanly();
  }, 180_000);

  it('the target line carries targetMode flush-first (full sync)', async () => {
    const users = await start(acl.get('replication-source')!, acl.get('target')!);
    await target!.client().set('stale', 'gone after flush-first');
    const run = await runPlan(users, { mode: 'full', targetMode: 'flush-first', confirm: true });
    await run.waitFor(/full sync complete/, 120_000);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(await target!.client().exists('stale')).toBe(0);
    await assertSameContents(source!.client(), target!.client(), { streamEntriesRead: 'ignore' });
    expect(await refusals(source!)).toEqual([]);
    expect(await refusals(target!)).toEqual([]);
  }, 180_000);

  it('scan source + target (with its scan-mode extra): full scan and live changes', async () => {
    const users = await start(acl.get('scan-source')!, acl.get('target')!, extras.get('scan-target'));
    await source!.client().config('SET', 'notify-keyspace-events', 'KA');
    const run = await runPlan(users, { mode: 'scan' });
    let difference = '';
    const same = async () =>
      assertSameContents(source!.client(), target!.client(), { streamEntriesRead: 'ignore' }).then(
        () => true,
        (error: Error) => ((difference = error.message), false),
      );
    const converge = (what: string) =>
      waitFor(what, same, 90_000).catch(async (error: Error) => {
        const refused = JSON.stringify([await refusals(source!), await refusals(target!)]);
        throw new Error(
          `${error.message}\nrefused: ${refused}\ndifference: ${difference.slice(0, 2000)}\n` +
            `stdout:\n${run.stdout().slice(-2000)}\nstderr:\n${run.stderr().slice(-3000)}`,
        );
      });
    await converge('the scan to copy every key');
    // Scan mode does not follow consumer-group state (README: scan mode), so no XREADGROUP/XCLAIM here.
    const client = source!.client();
    await client.set('live:str', 'v');
    await client.hset('live:hash', 'f', '1');
    await client.zadd('live:zset', 1, 'm');
    await client.rpush('live:list', 'a', 'b');
    await client.xadd('live:stream', '*', 'f', 'v');
    await client.pexpire('hash:0', 600_000);
    await client.del('string:1');
    await client.select(3);
    await client.set('live:db3', 'v');
    await client.select(0);
    await client.call(
      'FUNCTION',
      'LOAD',
      "#!lua name=acllive\nredis.register_function('acl_two', function() return 2 end)",
    );
    await converge('the live changes to reach the target');
    // The preflight still probes REPLCONF (a harmless listening-port), and reports it as not permitted.
    await expectStopsCleanly(['command:replconf']);
  }, 180_000);
  it('cluster source + cluster target (with their cluster extras): full sync and live writes', async () => {
    let sourceCluster: RedisCluster | undefined;
    let targetCluster: RedisCluster | undefined;
    const routers: ClusterRouter[] = [];
    try {
      [sourceCluster, targetCluster, scratch] = await Promise.all([
        startCluster({ masters: 3 }),
        startCluster({ masters: 3 }),
        scratchDir(),
      ]);
      const sourceRules = [...(extras.get('cluster-source') ?? [])];
      const targetRules = [...(extras.get('cluster-target') ?? [])];
      let users = { source: '', target: '' };
      for (const node of sourceCluster.nodes) {
        users.source = await createUser(node, acl.get('replication-source')!, SOURCE_PASSWORD, sourceRules);
      }
      for (const node of targetCluster.nodes) {
        users.target = await createUser(node, acl.get('target')!, TARGET_PASSWORD, targetRules);
      }
      users = { ...users };
      const [sourceRouter, targetRouter] = await Promise.all([
        ClusterRouter.open(sourceCluster),
        ClusterRouter.open(targetCluster),
      ]);
      routers.push(sourceRouter, targetRouter);
      await loadClusterData(sourceRouter, 30);
      const seed = (cluster: RedisCluster) => `${cluster.nodes[0].host}:${cluster.nodes[0].port}`;
      const plan = {
        name: 'acl-cluster',
        source: {
          type: 'cluster',
          seeds: [seed(sourceCluster)],
          username: users.source,
          password: 'env:SB_ACL_SOURCE_PASSWORD',
        },
        target: {
          type: 'cluster',
          seeds: [seed(targetCluster)],
          username: users.target,
          password: 'env:SB_ACL_TARGET_PASSWORD',
        },
      };
      const file = join(scratch.path, 'plan.json');
      await writeFile(file, JSON.stringify(plan));
      const run = (cli = startCli(
        ['run', file, '--data-dir', join(scratch.path, 'data'), '--progress-interval', '200'],
        { SB_ACL_SOURCE_PASSWORD: SOURCE_PASSWORD, SB_ACL_TARGET_PASSWORD: TARGET_PASSWORD },
      ));
      let difference = '';
      const converge = (what: string) =>
        waitFor(
          what,
          async () => {
            if (run.child.exitCode !== null)
              throw new Error(`shardbridge run exited (${run.child.exitCode})`);
            const [a, b] = await Promise.all([clusterContents(sourceRouter), clusterContents(targetRouter)]);
            const found = diffContents(a, b, { streamEntriesRead: 'ignore' });
            difference = formatDifferences(found);
            return found.length === 0;
          },
          120_000,
        ).catch((error: Error) => {
          throw new Error(
            `${error.message}\ndifference: ${difference.slice(0, 2000)}\nstdout:\n${run.stdout().slice(-2000)}\n` +
              `stderr:\n${run.stderr().slice(-3000)}`,
          );
        });
      await converge('the full sync of every shard');
      const writes = startClusterWrites(sourceRouter);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await writes.stop();
      await converge('the live writes of every shard');
      run.child.kill('SIGTERM');
      expect(await run.exited, run.stderr()).toBe(0);
      for (const node of [...sourceCluster.nodes, ...targetCluster.nodes]) {
        expect(await refusals(node), `${node.host}:${node.port}`).toEqual([]);
      }
    } finally {
      for (const router of routers) router.disconnect();
      await Promise.all([sourceCluster?.stop(), targetCluster?.stop()]);
    }
  }, 240_000);
});
