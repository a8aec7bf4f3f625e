import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { pino } from 'pino';
import { LOG_REDACTION } from '@shardbridge/plan';
import {
  assertSameContents,
  startCluster,
  startRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { startEmbeddedControlPlane, type EmbeddedControlPlane } from '../embedded/control-plane.js';
import { renderPlanStatus, type PlanStatusView } from './status-command.js';

export interface DemoOptions {
  /** keys loaded into the source cluster before the sync. @defaultValue 30000 */
  keys: number;
  /** seconds of writes while and after the shards sync. @defaultValue 5 */
  writeSeconds?: number;
}

type DemoShard = PlanStatusView['shards'][number] & { reachable: string; acknowledgedOffset: number };

function say(line: string): void {
  process.stdout.write(`demo: ${line}\n`);
}

async function loadSource(client: Cluster, keys: number): Promise<void> {
  const perType = Math.max(1, Math.floor(keys / 6));
  for (let start = 0; start < perType; start += 500) {
    // Keys of one batch live on different shards: no MULTI-style pipeline, plain commands auto-pipelined per node.
    const writes: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(perType, start + 500); i++) {
      writes.push(
        client.set(`user:${i}:name`, `user-${i}`),
        client.hset(`user:${i}:profile`, 'id', String(i), 'plan', i % 3 ? 'free' : 'pro'),
        client.rpush(`user:${i}:events`, 'signup', `visit-${i % 17}`),
        client.sadd(`user:${i}:tags`, `t${i % 5}`, `t${i % 7}`),
        client.zadd(`board:${i % 100}`, i, `user:${i}`),
      );
      if (i % 10 === 0) writes.push(client.pexpireat(`user:${i}:name`, Date.UTC(2100, 0, 1)));
      if (i % 50 === 0) writes.push(client.xadd(`stream:${i % 20}`, '*', 'user', String(i)));
    }
    await Promise.all(writes);
  }
}

/** Writes into the source cluster until `until`, as a live application would. */
async function writeLive(client: Cluster, until: () => boolean): Promise<number> {
  let rounds = 0;
  while (!until()) {
    const r = rounds++;
    await Promise.all([
      client.set(`live:${r % 1000}`, `v${r}`),
      client.incr(`live:counter:${r % 10}`),
      client.rpush(`live:list:${r % 10}`, `r${r}`),
      client.hset(`user:${r % 100}:profile`, 'last', String(r)),
      r % 7 === 0 ? client.del(`user:${r % 1000}:tags`) : Promise.resolve(),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return rounds;
}

async function shardsCaughtUp(cluster: RedisCluster, shards: DemoShard[]): Promise<boolean> {
  for (const shard of shards) {
    const node = cluster.nodes.find((candidate) => shard.reachable === `${candidate.host}:${candidate.port}`);
    if (!node || shard.phase !== 'incremental') return false;
    const masterOffset = Number((await node.info('replication')).master_repl_offset);
    if (shard.acknowledgedOffset < masterOffset) return false;
  }
  return true;
}

/**
 * The README's first command, end to end on one machine: an embedded queue, the coordinator and two workers; a
 * 3-shard source cluster whose nodes announce names nobody can resolve (NAT, as testkit simulates it); a target;
 * a plan submitted over the HTTP API with the NAT map; live progress while writes go on; a key-by-key comparison.
 */
export async function demoCommand(options: DemoOptions): Promise<void> {
  const started = Date.now();
  const cleanup: Array<() => Promise<unknown>> = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'shardbridge-demo-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  try {
    say('starting a 3-shard source cluster behind "NAT" and a target redis-server on loopback');
    let source: RedisCluster;
    let target: RedisServer;
    try {
      [source, target] = await Promise.all([
        startCluster({ masters: 3, announceHostnames: true }),
        startRedis(),
      ]);
    } catch (error) {
      throw new CliError(
        `cannot start redis-server (${(error as Error).message.split('\n')[0]}); install it, e.g. apt-get install redis-server`,
      );
    }
    cleanup.unshift(
      () => source.stop(),
      () => target.stop(),
    );
    const announced = source.nodes.map((node) => source.announced(node));
    say(`the source announces ${announced.join(', ')} — names no other tool can dial`);

    const token = randomBytes(16).toString('hex');
    const controlPlane: EmbeddedControlPlane = await startEmbeddedControlPlane({
      dataDir,
      workers: 2,
      concurrency: 2,
      apiToken: token,
      logger: pino({ level: 'warn', redact: LOG_REDACTION }, pino.destination(2)),
    });
    cleanup.unshift(() => controlPlane.close());
    say(`queue ${controlPlane.queueUrl}, coordinator ${controlPlane.url} (queue UI at /ui), 2 workers`);

    const sourceClient = source.client({ enableAutoPipelining: true });
    await loadSource(sourceClient, options.keys);
    const loadedKeys = (await Promise.all((await source.masters()).map((m) => m.client().dbsize()))).reduce(
      (a, b) => a + b,
      0,
    );
    say(`loaded ${loadedKeys} keys into the source`);

    const natMap = Object.fromEntries(
      Object.entries(source.natMap()).map(([from, to]) => [from, `${to.host}:${to.port}`]),
    );
    const api = new ApiClient(controlPlane.url, token);
    const plan = await api.request<{
      id: string;
      shards: Array<{ id: string; announced: string; reachable: string }>;
    }>('POST', '/v1/plans', {
      name: 'demo',
      source: { type: 'cluster', seeds: [announced[0]], natMap },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    });
    say(`plan ${plan.id} submitted over HTTP: one job per shard`);
    for (const shard of plan.shards) say(`  ${shard.id}: ${shard.announced} -> ${shard.reachable}`);

    let writesDone = false;
    const writes = writeLive(sourceClient, () => writesDone);
    const writeUntil = Date.now() + (options.writeSeconds ?? 5) * 1000;
    let maxLagBytes = 0;
    let view: PlanStatusView & { shards: DemoShard[] };
    for (let tick = 0; ; tick++) {
      view = await api.request('GET', `/v1/plans/${plan.id}`);
      for (const shard of view.shards) maxLagBytes = Math.max(maxLagBytes, shard.lagBytes ?? 0);
      if (tick % 4 === 0) process.stdout.write(`${renderPlanStatus(view)}\n`);
      const failed = view.shards.find((shard) => shard.phase === 'failed');
      if (failed)
        throw new CliError(`demo: ${failed.id} failed: ${failed.lastError?.message ?? 'unknown error'}`);
      const allStreaming = view.shards.every((shard) => shard.phase === 'incremental');
      if (allStreaming && Date.now() >= writeUntil && !writesDone) writesDone = true;
      if (writesDone && (await shardsCaughtUp(source, view.shards))) break;
      if (Date.now() - started > 180_000)
        throw new CliError('demo: the shards did not catch up within 3 minutes');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const rounds = await writes;
    process.stdout.write(`${renderPlanStatus(view)}\n`);
    say(`${rounds} rounds of live writes replicated; every shard confirmed its master's offset`);

    await assertSameContents(sourceClient, target.client());
    const targetKeys = await target.client().dbsize();
    say(`source and target are identical: ${targetKeys} keys, every type, value and TTL`);
    await api.request('POST', `/v1/plans/${plan.id}/stop`);
    say(
      `summary: ${targetKeys} keys over 3 shards, max lag ${maxLagBytes} bytes, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s end to end`,
    );
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
}
