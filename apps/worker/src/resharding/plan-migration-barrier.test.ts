import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, NatMapper, parseHostPort, type ShardRecord } from '@shardbridge/plan';
import { freePort, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import type { Redis } from 'ioredis';
import { MasterOffsets } from './master-offsets.js';
import { PlanMigrationBarrier } from './plan-migration-barrier.js';

const logger = pino({ level: 'silent' });

describe('PlanMigrationBarrier (queue Redis + real source masters)', () => {
  let queue: RedisServer;
  let master: RedisServer;
  let replica: RedisServer;
  let queueClient: Redis;
  let masterClient: Redis;
  let deadPort: number;

  const record = (id: string, reachable: string): ShardRecord => ({
    id,
    nodeId: null,
    slots: [],
    announced: reachable,
    reachable,
    jobId: id,
  });

  beforeAll(async () => {
    [queue, master, replica, deadPort] = await Promise.all([
      startRedis(),
      startRedis(),
      startRedis(),
      freePort(),
    ]);
    queueClient = queue.client();
    masterClient = master.client();
    // A replica makes the master keep a backlog, so its master_repl_offset moves with every write.
    await replica.client().replicaof(master.host, master.port);
    await waitFor(
      'the replica link',
      async () => (await replica.info('replication')).master_link_status === 'up',
    );
  });
  afterAll(async () => {
    queueClient?.disconnect();
    masterClient?.disconnect();
    await Promise.all([queue?.stop(), master?.stop(), replica?.stop()]);
  });

  const barrier = (planId: string, timeoutMs: number, isSyncing?: (shard: ShardRecord) => Promise<boolean>) =>
    new PlanMigrationBarrier({
      isSyncing,
      redis: queueClient,
      planId,
      shardId: `${planId}-0`,
      masterOffset: (shard) =>
        new MasterOffsets({
          link: { tls: false, timeoutMs: 1000 },
          seeds: [],
          natMapper: new NatMapper(),
        }).of(shard),
      logger,
      timeoutMs,
      pollMs: 20,
    });

  it('waits until every other shard checkpointed its master offset as read at the start, then passes', async () => {
    const planId = 'gate1';
    const self = record(`${planId}-0`, '127.0.0.1:1');
    const other = record(`${planId}-1`, `${master.host}:${master.port}`);
    await queueClient.hset(keys.plan(planId), 'shards', JSON.stringify([self, other]));
    for (let i = 0; i < 20; i++) await masterClient.set(`k${i}`, 'v');
    const goal = Number((await master.info('replication')).master_repl_offset);
    expect(goal).toBeGreaterThan(0);
    await queueClient.hset(keys.checkpoint(other.id), { offset: String(goal - 1) });

    let settled = false;
    const passing = barrier(planId, 30_000)
      .pass(new AbortController().signal)
      .finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    // Writes after the pass started do not move its goal.
    await masterClient.set('later', 'v');
    await queueClient.hset(keys.checkpoint(other.id), { offset: String(goal) });
    const outcome = await passing;
    expect(outcome).toMatchObject({ reached: true, lagging: [], unknown: [] });
  });

  it('gives up after its timeout naming the lagging shard, and skips a shard whose master does not answer', async () => {
    const planId = 'gate2';
    const shards = [
      record(`${planId}-0`, '127.0.0.1:1'),
      record(`${planId}-1`, `${master.host}:${master.port}`),
      record(`${planId}-2`, `127.0.0.1:${deadPort}`),
    ];
    await queueClient.hset(keys.plan(planId), 'shards', JSON.stringify(shards));
    await masterClient.set('x', 'y');
    const outcome = await barrier(planId, 300).pass(new AbortController().signal);
    expect(outcome).toMatchObject({ reached: false, lagging: [`${planId}-1`], unknown: [`${planId}-2`] });
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(300);
  });

  it('does not wait for a shard without a checkpoint whose job is not syncing (queued, held back, stopped)', async () => {
    const planId = 'gate4';
    const shards = [
      record(`${planId}-0`, '127.0.0.1:1'),
      record(`${planId}-1`, `${master.host}:${master.port}`),
      record(`${planId}-2`, `${master.host}:${master.port}`),
    ];
    await queueClient.hset(keys.plan(planId), 'shards', JSON.stringify(shards));
    await masterClient.set('y', 'z');
    // -1 is syncing (its snapshot may predate the goal), -2 waits in the queue.
    const syncing = async (shard: ShardRecord) => shard.id === `${planId}-1`;
    const outcome = await barrier(planId, 300, syncing).pass(new AbortController().signal);
    expect(outcome).toMatchObject({ reached: false, lagging: [`${planId}-1`] });
    const idle = await barrier(planId, 30_000, async () => false).pass(new AbortController().signal);
    expect(idle).toMatchObject({ reached: true, lagging: [] });
  });

  it('rejects when the link ends while it waits', async () => {
    const planId = 'gate3';
    const shards = [
      record(`${planId}-0`, '127.0.0.1:1'),
      record(`${planId}-1`, `${master.host}:${master.port}`),
    ];
    await queueClient.hset(keys.plan(planId), 'shards', JSON.stringify(shards));
    const aborter = new AbortController();
    const passing = barrier(planId, 30_000).pass(aborter.signal);
    setTimeout(() => aborter.abort(new Error('link ended')), 200);
    await expect(passing).rejects.toThrow('link ended');
  });

  it('reads a master offset, never a replica offset', async () => {
    const offsets = new MasterOffsets({
      link: { tls: false, timeoutMs: 1000 },
      seeds: [],
      natMapper: new NatMapper(),
    });
    const read = await offsets.of(record('x-1', `${master.host}:${master.port}`));
    expect(read?.address).toBe(`${master.host}:${master.port}`);
    expect(read?.replid).toMatch(/^[0-9a-f]{40}$/);
    expect(await offsets.of(record('x-2', `${replica.host}:${replica.port}`))).toBeNull();
    expect(parseHostPort(read!.address)).not.toBeNull();
  });
});
