import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { allIncremental, call, getPlan, waitForShards, type ShardView } from './support/api.js';
import {
  clusterPlan,
  countersByMaster,
  expectConverged,
  loadClusterData,
  startClusterWrites,
  startNatSourceCluster,
  startQueueRedis,
  sumPartialOk,
} from './support/cluster-data.js';
import { ClusterRouter } from './support/cluster-router.js';
import {
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
  type WorkerProcess,
} from './support/processes.js';

// Issue 4, acceptance: shards move between worker processes. A kill -9 leaves the job's lock to lapse
// (lockDuration 10 s, stalledInterval 5 s), SIGTERM hands the job back at once; either way the next worker resumes
// from the checkpoint in the queue's Redis with +CONTINUE, except when the kill lands inside a full sync.
//
// Workers run with --concurrency 3 so a single survivor can carry all three shards of the plan.

const BIG_VALUES = 8;
const BIG_VALUE_BYTES = 20 * 1024 * 1024;
/** Hash tag of the big values: they all live on one master, whose full sync is then long enough to kill into. */
const BIG_TAG = '{rdb}';

const holdersOf = (shards: ShardView[]) => new Set(shards.map((shard) => shard.workerId));

describe('control plane: shard hand-off between worker processes', () => {
  const processes = new ProcessGroup();
  let queue: RedisServer;
  let source: RedisCluster;
  let target: RedisServer;
  let coordinator: CoordinatorProcess;
  let sourceRouter: ClusterRouter;
  let planId: string;
  /** the workers alive, in start order */
  const workers: WorkerProcess[] = [];
  const context = () => processes.output();

  const startWorker = async () => {
    const worker = processes.add(await startWorkerProcess(queue, { concurrency: 3 }));
    workers.push(worker);
    return worker;
  };
  const forget = (worker: WorkerProcess) => workers.splice(workers.indexOf(worker), 1);

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startNatSourceCluster(), startRedis()]);
    sourceRouter = await ClusterRouter.open(source);
    await loadClusterData(sourceRouter, 100);
    coordinator = processes.add(await startCoordinatorProcess(queue));
    await Promise.all([startWorker(), startWorker()]);
  });

  afterAll(async () => {
    await processes.killAll();
    sourceRouter?.disconnect();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('kill -9 during a shard’s full sync: another worker takes the shard and syncs it in full again', async () => {
    for (let i = 0; i < BIG_VALUES; i++) {
      await sourceRouter.client(BIG_TAG).set(`big:${BIG_TAG}:${i}`, randomBytes(BIG_VALUE_BYTES));
    }
    const bigMaster = await source.nodeForSlot(keySlot(BIG_TAG));
    const bigAddress = `${bigMaster.host}:${bigMaster.port}`;
    const before = await countersByMaster(source);

    const writes = startClusterWrites(sourceRouter);
    try {
      const created = await call(coordinator.url, '/v1/plans', {
        body: clusterPlan('hand-off', source, { type: 'standalone', server: target }),
      });
      expect(created.status, created.text).toBe(201);
      planId = created.body.id;
      const [bigShard] = await waitForShards(
        coordinator.url,
        planId,
        'the big shard in full sync',
        (shards) => shards.some((s) => s.reachable === bigAddress && s.phase === 'full-sync' && s.workerId),
        // The full sync of ~160 MB lasts about a second and a half here: look often.
        { context, pollMs: 50 },
      ).then((shards) => shards.filter((shard) => shard.reachable === bigAddress));
      const victim = workers.find((worker) => worker.workerId === bigShard.workerId)!;
      expect(victim).toBeDefined();
      victim.cli.child.kill('SIGKILL');
      await victim.cli.exited;
      const killedAt = Date.now();
      forget(victim);
      const [survivor] = workers;

      const shards = await waitForShards(
        coordinator.url,
        planId,
        'every shard incremental on the survivor',
        (all) => allIncremental(all) && all.every((shard) => shard.workerId === survivor.workerId),
        { context },
      );
      console.log(
        `hand-off after kill -9 during full sync: ${Date.now() - killedAt} ms (lock 10 s, stall check 5 s)`,
      );
      const after = await countersByMaster(source);
      // The first attempt's full sync and a second one: the kill landed before the RDB was in.
      expect(
        after.get(bigAddress)!.full,
        'full syncs of the big master (one more only = the kill came after the RDB was in)',
      ).toBe(before.get(bigAddress)!.full + 2);
      const moved = shards.find((shard) => shard.reachable === bigAddress)!;
      expect(moved.fullSyncs).toBe(1);
      await startWorker();
    } finally {
      await writes.stop();
    }
    // Less to compare: the big values' removal replicates like any write.
    await sourceRouter
      .client(BIG_TAG)
      .del(...Array.from({ length: BIG_VALUES }, (_, i) => `big:${BIG_TAG}:${i}`));
    await expectConverged(coordinator.url, planId, source, sourceRouter, target);
  }, 150_000);

  it('kill -9 mid-stream with writes going on: the other worker resumes every shard with +CONTINUE', async () => {
    const writes = startClusterWrites(sourceRouter);
    try {
      const running = await getPlan(coordinator.url, planId);
      expect(allIncremental(running.shards)).toBe(true);
      const victim = workers.find((worker) => holdersOf(running.shards).has(worker.workerId))!;
      const survivor = workers.find((worker) => worker !== victim)!;
      const victimShards = running.shards.filter((shard) => shard.workerId === victim.workerId);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = await countersByMaster(source);

      victim.cli.child.kill('SIGKILL');
      await victim.cli.exited;
      const killedAt = Date.now();
      forget(victim);
      const shards = await waitForShards(
        coordinator.url,
        planId,
        'the killed worker’s shards incremental on the survivor',
        (all) => allIncremental(all) && all.every((shard) => shard.workerId === survivor.workerId),
        { context },
      );
      console.log(
        `hand-off after kill -9 mid-stream: ${Date.now() - killedAt} ms for ${victimShards.length} shard(s) ` +
          '(lock 10 s, stall check 5 s)',
      );
      const after = await countersByMaster(source);
      expect(sumPartialOk(after)).toBeGreaterThanOrEqual(sumPartialOk(before) + victimShards.length);
      for (const shard of victimShards) {
        expect(after.get(shard.reachable)!.full).toBe(before.get(shard.reachable)!.full);
        const now = shards.find((candidate) => candidate.id === shard.id)!;
        expect(now).toMatchObject({ fullSyncs: 0, partialSyncs: 1 });
      }
      await startWorker();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await writes.stop();
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, target);
  }, 120_000);

  it('SIGTERM: the worker hands its shards back and the other resumes them with +CONTINUE within seconds', async () => {
    const writes = startClusterWrites(sourceRouter);
    try {
      const running = await getPlan(coordinator.url, planId);
      expect(allIncremental(running.shards)).toBe(true);
      const victim = workers.find((worker) => holdersOf(running.shards).has(worker.workerId))!;
      const survivor = workers.find((worker) => worker !== victim)!;
      const victimShards = running.shards.filter((shard) => shard.workerId === victim.workerId);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = await countersByMaster(source);

      const signalledAt = Date.now();
      victim.cli.child.kill('SIGTERM');
      expect(await victim.cli.exited).toBe(0);
      const exitedAfter = Date.now() - signalledAt;
      forget(victim);
      await waitForShards(
        coordinator.url,
        planId,
        'the handed-back shards incremental on the survivor',
        (all) => allIncremental(all) && all.every((shard) => shard.workerId === survivor.workerId),
        { context, timeoutMs: 30_000 },
      );
      const handOffMs = Date.now() - signalledAt;
      console.log(
        `hand-off after SIGTERM: ${handOffMs} ms for ${victimShards.length} shard(s) (worker exited after ${exitedAfter} ms)`,
      );
      expect(victim.cli.stdout()).toMatch(/shard handed back to the queue/);
      const after = await countersByMaster(source);
      expect(sumPartialOk(after)).toBe(sumPartialOk(before) + victimShards.length);
      for (const shard of victimShards) {
        expect(after.get(shard.reachable)!.full).toBe(before.get(shard.reachable)!.full);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await writes.stop();
    }
    await expectConverged(coordinator.url, planId, source, sourceRouter, target);
  }, 90_000);
});
