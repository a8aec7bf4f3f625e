import {
  contentsOf,
  diffContents,
  formatDifferences,
  startCluster,
  startRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { getPlan, type ShardView } from './api.js';
import type { Redis } from 'ioredis';
import { ClusterRouter, clusterContents } from './cluster-router.js';

/** The queue's Redis as the worker docs ask for it: durable checkpoints, never evicting jobs. */
export function startQueueRedis(): Promise<RedisServer> {
  return startRedis({ config: { appendonly: 'yes', 'maxmemory-policy': 'noeviction' } });
}

/**
 * A 3-master source behind simulated NAT (nodes announce `node-<i>.internal.invalid`). The backlog covers the
 * ~20 s a killed worker's shard waits for its lock to lapse, as a production source's backlog should.
 */
export function startNatSourceCluster(): Promise<RedisCluster> {
  return startCluster({ masters: 3, announceHostnames: true, config: { 'repl-backlog-size': '64mb' } });
}

/** The cluster's NAT map in the plan's shape: announced `host:port` -> reachable `host:port`. */
export function planNatMap(cluster: RedisCluster): Record<string, string> {
  return Object.fromEntries(
    Object.entries(cluster.natMap()).map(([announced, { host, port }]) => [announced, `${host}:${port}`]),
  );
}

/** A cluster-source plan over the API; `target` is a standalone server or a cluster. */
export function clusterPlan(
  name: string,
  source: RedisCluster,
  target: { type: 'standalone'; server: RedisServer } | { type: 'cluster'; cluster: RedisCluster },
  targetPassword?: string,
): Record<string, unknown> {
  const seed = source.nodes[0];
  const targetSpec =
    target.type === 'standalone'
      ? { type: 'standalone', seeds: [`${target.server.host}:${target.server.port}`] }
      : {
          type: 'cluster',
          seeds: [`${target.cluster.nodes[0].host}:${target.cluster.nodes[0].port}`],
          ...(target.cluster.announcesHostnames ? { natMap: planNatMap(target.cluster) } : {}),
        };
  return {
    name,
    source: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`], natMap: planNatMap(source) },
    target: { ...targetSpec, ...(targetPassword ? { password: targetPassword } : {}) },
  };
}

/**
 * db-0 data of every type for a cluster, each key sent to the master of its slot. Streams get entries deleted
 * and a consumer group, so compare with `streamEntriesRead: 'ignore'`.
 */
export async function loadClusterData(router: ClusterRouter, keysPerType: number): Promise<void> {
  const on = (key: string) => router.client(key);
  for (let i = 0; i < keysPerType; i++) {
    const tag = i % 3 === 0 ? `{tag${i % 17}}` : '';
    await Promise.all([
      on(`str:${tag}${i}`).set(`str:${tag}${i}`, `value-${i}-${'x'.repeat(i % 50)}`),
      on(`ttl:${tag}${i}`).set(`ttl:${tag}${i}`, `expiring-${i}`, 'PX', 3_600_000 + i),
      on(`list:${tag}${i}`).rpush(
        `list:${tag}${i}`,
        ...Array.from({ length: 1 + (i % 7) }, (_, j) => `e${j}`),
      ),
      on(`hash:${tag}${i}`).hset(
        `hash:${tag}${i}`,
        Object.fromEntries(Array.from({ length: 1 + (i % 5) }, (_, j) => [`f${j}`, `v${i}.${j}`])),
      ),
      on(`set:${tag}${i}`).sadd(`set:${tag}${i}`, ...Array.from({ length: 1 + (i % 6) }, (_, j) => `m${j}`)),
      on(`zset:${tag}${i}`).zadd(
        `zset:${tag}${i}`,
        ...Array.from({ length: 1 + (i % 4) }, (_, j) => [j * 1.5, `z${j}`]).flat(),
      ),
    ]);
    if (i % 10 === 0) {
      const stream = `stream:${tag}${i}`;
      const ids: string[] = [];
      for (let j = 0; j < 5; j++) ids.push((await on(stream).xadd(stream, '*', 'n', String(j))) as string);
      await on(stream).xdel(stream, ids[1]);
      await on(stream).xgroup('CREATE', stream, 'readers', '0');
      await on(stream).xreadgroup('GROUP', 'readers', 'alice', 'COUNT', 2, 'STREAMS', stream, '>');
    }
  }
}

/**
 * Writes whose replay converges (absolute states: SET, HSET, SADD/SREM, ZADD, DEL, PEXPIREAT), so a shard that
 * resumes from an older checkpoint after a kill -9 still ends equal. Each round's keys share a hash tag (one
 * pipeline = one slot); the tags rotate over all masters.
 */
export function startClusterWrites(router: ClusterRouter): { stop(): Promise<number> } {
  let running = true;
  let rounds = 0;
  const loop = (async () => {
    while (running) {
      const r = rounds++;
      const tag = `{w${r % 97}}`;
      const p = router.client(tag).pipeline();
      p.set(`live:${tag}:str:${r % 7}`, `v${r}`);
      p.hset(`live:${tag}:hash`, `f${r % 13}`, `v${r}`);
      p.sadd(`live:${tag}:set`, `m${r % 40}`);
      if (r % 3 === 0) p.srem(`live:${tag}:set`, `m${(r * 7) % 40}`);
      p.zadd(`live:${tag}:zset`, r, `z${r % 30}`);
      if (r % 5 === 0) p.del(`live:${tag}:str:${(r * 3) % 7}`);
      p.pexpireat(`live:${tag}:hash`, Date.UTC(2100, 0, 1) + r);
      await p.exec();
      // A steady trickle on a shared 2-core box: writes in flight at every moment, not a flood.
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

/** INFO stats counters of one source master. */
export interface SyncCounters {
  full: number;
  partialOk: number;
}

export async function syncCounters(node: RedisServer): Promise<SyncCounters> {
  const stats = await node.info('stats');
  return { full: Number(stats.sync_full), partialOk: Number(stats.sync_partial_ok) };
}

/** Counters of every master, keyed by reachable `host:port` (= a shard's `reachable`). */
export async function countersByMaster(cluster: RedisCluster): Promise<Map<string, SyncCounters>> {
  const masters = await cluster.masters();
  const entries = await Promise.all(
    masters.map(async (node) => [`${node.host}:${node.port}`, await syncCounters(node)] as const),
  );
  return new Map(entries);
}

export function sumPartialOk(counters: Map<string, SyncCounters>): number {
  return [...counters.values()].reduce((sum, c) => sum + c.partialOk, 0);
}

export function masterOf(cluster: RedisCluster, shard: ShardView): RedisServer {
  const node = cluster.nodes.find((candidate) => `${candidate.host}:${candidate.port}` === shard.reachable);
  if (!node) throw new Error(`no node of the cluster is reachable at ${shard.reachable}`);
  return node;
}

/**
 * Waits until every shard of the plan has had its target confirm the offset its master had reached when this
 * was called (writes should have stopped), then until the target equals the source. The second wait covers
 * progress reports that lag the target by up to a report interval.
 */
export async function expectConverged(
  coordinatorUrl: string,
  planId: string,
  source: RedisCluster,
  sourceRouter: ClusterRouter,
  /** a cluster target's router, or anything that opens a client on a standalone target */
  target: ClusterRouter | { client(): Redis },
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const plan = await getPlan(coordinatorUrl, planId);
  const goals = await Promise.all(
    plan.shards.map(async (shard) =>
      Number((await masterOf(source, shard).info('replication')).master_repl_offset),
    ),
  );
  for (;;) {
    const shards = (await getPlan(coordinatorUrl, planId)).shards;
    if (shards.every((shard, index) => shard.acknowledgedOffset >= goals[index])) break;
    if (Date.now() > deadline) {
      throw new Error(
        `targets did not confirm ${JSON.stringify(goals)} within ${timeoutMs} ms: ` +
          JSON.stringify(shards.map((shard) => [shard.id, shard.phase, shard.acknowledgedOffset])),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const options = { streamEntriesRead: 'ignore' as const };
  for (;;) {
    const left = await clusterContents(sourceRouter);
    const right =
      target instanceof ClusterRouter ? await clusterContents(target) : await readStandalone(target);
    const differences = diffContents(left, right, options);
    if (differences.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`target differs from the source:\n${formatDifferences(differences)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function readStandalone(server: { client(): Redis }) {
  const client = server.client();
  try {
    return await contentsOf(client);
  } finally {
    client.disconnect();
  }
}
