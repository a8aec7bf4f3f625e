import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentsOf,
  diffContents,
  formatDifferences,
  natNamespaceUnsupportedReason,
  pingOnce,
  startNatNamespaceCluster,
  startRedis,
  type NatNamespaceCluster,
  type NatNamespaceNode,
  type RedisContents,
  type RedisServer,
} from '@shardbridge/testkit';
import { runCli, startCli } from '../support/cli-process.js';
import { scratchDir } from '../support/sync-harness.js';

// A true NAT: the source cluster runs in its own network namespace with its own addresses, which it announces;
// this host cannot route to them and reaches the nodes only through a router namespace's DNAT'd ports. Needs
// root (CAP_NET_ADMIN), iproute2, nftables and nf_nat; anywhere else the suite is skipped and says why.
const unsupported = await natNamespaceUnsupportedReason();
if (unsupported !== null) console.warn(`test/netns/true-nat.test.ts skipped: ${unsupported}`);
const title =
  'true NAT: a cluster in a network namespace, reachable only through DNAT' +
  (unsupported === null ? '' : ` (skipped: ${unsupported})`);

/** One row of `source.shards` and one problem of `shardbridge discover --json`. */
interface PreflightRow {
  announced: string;
  reachable: string;
  mappedBy: string;
  error: string | null;
}
interface PreflightProblem {
  side: string;
  address: string;
  code: string;
  message: string;
  fix: string;
}

describe.skipIf(unsupported !== null)(title, () => {
  let source: NatNamespaceCluster;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let clients: Map<NatNamespaceNode, Redis>;
  const internal = (node: NatNamespaceNode) => `${node.internal.host}:${node.internal.port}`;
  const reachable = (node: NatNamespaceNode) => `${node.reachable.host}:${node.reachable.port}`;
  /** Each key written to the master of its slot, through that master's DNAT'd port. */
  const on = (key: string) => clients.get(source.nodeForKey(key))!;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startNatNamespaceCluster({ masters: 3 }),
      startRedis(),
      scratchDir(),
    ]);
    clients = new Map(source.nodes.map((node) => [node, source.client(node)]));
    for (let i = 0; i < 200; i++) {
      await Promise.all([
        on(`str:${i}`).set(`str:${i}`, `value-${i}`),
        on(`hash:${i}`).hset(`hash:${i}`, { a: `${i}`, b: 'x'.repeat(i % 40) }),
        on(`list:${i}`).rpush(`list:${i}`, 'a', 'b', `${i}`),
        on(`ttl:${i}`).set(`ttl:${i}`, `${i}`, 'PX', 3_600_000 + i),
      ]);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  async function writePlan(name: string, mapping: Record<string, unknown>): Promise<string> {
    const plan = {
      name,
      source: { type: 'cluster', seeds: [reachable(source.nodes[0])], ...mapping },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    };
    const file = join(scratch.path, `${name}.plan.json`);
    await writeFile(file, JSON.stringify(plan, null, 2));
    return file;
  }

  it('the announced addresses are unreachable from this host; only the DNAT ports answer', async () => {
    for (const node of source.nodes) {
      await expect(pingOnce(node.internal.host, node.internal.port, {}, 2000)).rejects.toThrow();
      expect(await pingOnce(node.reachable.host, node.reachable.port, {}, 2000)).toBe('+PONG');
    }
    const shards = (await clients.get(source.nodes[0])!.call('CLUSTER', 'SHARDS')) as unknown[][];
    const announced = shards.flatMap((shard) =>
      (shard[3] as unknown[][]).map((node) => {
        const fields = new Map<unknown, unknown>();
        for (let i = 0; i < node.length; i += 2) fields.set(node[i], node[i + 1]);
        return `${fields.get('ip')}:${fields.get('port')}`;
      }),
    );
    expect(new Set(announced)).toEqual(new Set(source.nodes.map(internal)));
  });

  it('discover without a mapping names every unreachable internal address and the natMap line to add', async () => {
    const plan = await writePlan('netns-unmapped', {});
    // A hang would be a failure: the run is killed after 30 s, well above the 2 s connect bound per node.
    const result = await runCli(['discover', plan, '--json', '--connect-timeout', '2000'], {}, 30_000);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      source: { shards: PreflightRow[] };
      problems: PreflightProblem[];
    };
    expect(report.ok).toBe(false);
    const rows = report.source.shards;
    expect(rows.map((row) => row.announced).sort()).toEqual(source.nodes.map(internal).sort());
    for (const row of rows) {
      expect(row.reachable).toBe(row.announced);
      expect(row.mappedBy).toBe('identity');
      expect(row.error).toMatch(/EHOSTUNREACH|ETIMEDOUT|no answer/);
    }
    for (const node of source.nodes) {
      const problem = report.problems.find(
        (item) => item.side === 'source' && item.address === internal(node),
      );
      expect(problem, JSON.stringify(report.problems)).toBeDefined();
      expect(problem!.code).toBe('PREFLIGHT_UNREACHABLE');
      expect(problem!.fix).toContain(`add to source.natMap: "${internal(node)}": "<reachable-host>:<port>"`);
    }
    expect(report.problems.filter((item) => item.side === 'target')).toEqual([]);
  }, 45_000);

  it('run syncs the NAT-ed cluster into a loopback target through natRules (internal CIDR -> router + offset)', async () => {
    const plan = await writePlan('netns-nat-rules', { natRules: [source.natRule()] });
    const writes = startWrites(on);
    const cli = startCli([
      'run',
      plan,
      '--data-dir',
      join(scratch.path, 'data'),
      '--progress-interval',
      '200',
    ]);
    try {
      await cli.waitFor(/: 3 shard\(s\)/, 30_000);
      await waitUntil(
        'every shard incremental',
        45_000,
        cli.stdout,
        () => incrementalShards(cli.stdout()) === 3,
      );
      // Every master's replica connection came from this host's end of the uplink: the NAT path, not a shortcut.
      for (const node of source.nodes) {
        const info = String(await clients.get(node)!.info('replication'));
        expect(info).toMatch(new RegExp(`slave0:ip=${source.network.hostAddress.replace(/\./g, '\\.')},`));
      }
      // Writes keep flowing a moment after every shard streams.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      expect(await writes.stop()).toBeGreaterThan(10);
    }
    try {
      let differences: ReturnType<typeof diffContents> = [];
      await waitUntil('the target to equal the source', 30_000, cli.stdout, async () => {
        differences = diffContents(await sourceContents(source), await contentsOf(target.client()));
        return differences.length === 0;
      }).catch((error: Error) => {
        throw new Error(`${error.message}\n${formatDifferences(differences)}`);
      });
      const live = target.client();
      expect((await live.keys('live:*')).length).toBeGreaterThan(0);
      expect(await live.dbsize()).toBeGreaterThan(800);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 90_000);
});

/** Shards whose latest progress line says incremental. */
function incrementalShards(stdout: string): number {
  const latest = new Map<string, string>();
  for (const match of stdout.matchAll(/^\[([^\]]+)\] (\S+)/gm)) latest.set(match[1], match[2]);
  return [...latest.values()].filter((phase) => phase === 'incremental').length;
}

async function waitUntil(
  what: string,
  timeoutMs: number,
  output: () => string,
  condition: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${output().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** db 0 of every node, read through the DNAT ports and merged (a cluster has db 0 only). */
async function sourceContents(cluster: NatNamespaceCluster): Promise<RedisContents> {
  const db = {};
  for (const node of cluster.nodes) {
    const client = cluster.client(node);
    try {
      Object.assign(db, (await contentsOf(client, { dbs: [0] })).dbs['0']);
    } finally {
      client.disconnect();
    }
  }
  return { dbs: { '0': db } };
}

/**
 * Writes whose every command sets an absolute state, each round's keys under one hash tag (one slot, one
 * master), the tags rotating over every master; sent through the DNAT ports.
 */
function startWrites(on: (key: string) => Redis): { stop(): Promise<number> } {
  let running = true;
  let rounds = 0;
  const loop = (async () => {
    while (running) {
      const r = rounds++;
      const tag = `{w${r % 61}}`;
      const pipeline = on(tag).pipeline();
      pipeline.set(`live:${tag}:str:${r % 5}`, `v${r}`);
      pipeline.hset(`live:${tag}:hash`, `f${r % 11}`, `v${r}`);
      pipeline.zadd(`live:${tag}:zset`, r, `z${r % 20}`);
      if (r % 4 === 0) pipeline.del(`live:${tag}:str:${(r * 3) % 5}`);
      await pipeline.exec();
      // A steady trickle on a shared machine: writes in flight at every moment, not a flood.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return rounds;
    },
  };
}
