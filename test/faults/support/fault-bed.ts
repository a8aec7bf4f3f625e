import {
  startCluster,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisCluster,
  type RedisServer,
  waitFor,
} from '@shardbridge/testkit';
import { call, getPlan, waitForShards, type ShardView } from '../../control-plane/support/api.js';
import { startQueueRedis } from '../../control-plane/support/cluster-data.js';
import { ClusterRouter } from '../../control-plane/support/cluster-router.js';
import {
  ProcessGroup,
  startCoordinatorProcess,
  startWorkerProcess,
  type CoordinatorProcess,
  type WorkerProcess,
} from '../../control-plane/support/processes.js';
import { compareTokens, type TokenComparison } from './token-check.js';

/**
 * Lock settings of the fault suites' workers: a killed worker's shards restart ~4 s later instead of ~15 s with
 * the defaults (10 s / 5 s), which is what keeps 20 kill rounds inside CI's budget.
 */
export const WORKER_LOCK_ARGS = ['--lock-duration', '3000', '--stalled-interval', '1000'];

/** Sync counters of one source master (INFO stats). */
export interface ResyncCounters {
  full: number;
  partial: number;
}

/** Full and partial resyncs the source masters served since `before`. */
export function resyncsSince(before: ResyncCounters, after: ResyncCounters): ResyncCounters {
  return { full: after.full - before.full, partial: after.partial - before.partial };
}

/**
 * A fault-injection bed: a 3-master source behind simulated NAT whose announced addresses the plan maps onto one
 * fault proxy per master, a standalone target (AOF on, so it survives a restart) behind its own proxy, the queue's
 * Redis, and coordinator + worker processes. Every byte between a worker and a Redis that holds data crosses a
 * proxy, so the suites can delay, blackhole and cut either side.
 */
export class FaultBed {
  readonly processes = new ProcessGroup();
  readonly workers: WorkerProcess[] = [];
  /** the proxy in front of each source master, in `source.nodes` order */
  sourceProxies: FaultProxy[] = [];
  targetProxy!: FaultProxy;
  queue!: RedisServer;
  source!: RedisCluster;
  target!: RedisServer;
  router!: ClusterRouter;
  coordinator!: CoordinatorProcess;
  planId = '';
  readonly context = () => this.processes.output();

  static async start(
    options: { workers?: number; target?: Record<string, string>; source?: Record<string, string> } = {},
  ): Promise<FaultBed> {
    const bed = new FaultBed();
    try {
      await bed.setUp(options);
    } catch (error) {
      // Nothing of a half-started bed outlives the failed hook.
      await bed.stop().catch(() => undefined);
      throw error;
    }
    return bed;
  }

  private async setUp(options: {
    workers?: number;
    target?: Record<string, string>;
    source?: Record<string, string>;
  }): Promise<void> {
    [this.queue, this.source, this.target] = await Promise.all([
      startQueueRedis(),
      startCluster({
        masters: 3,
        announceHostnames: true,
        // Covers every outage of these suites, so a resume is +CONTINUE unless the master itself restarted.
        config: { 'repl-backlog-size': '64mb', ...options.source },
      }),
      startRedis({ config: { appendonly: 'yes', ...options.target } }),
    ]);
    this.sourceProxies = await Promise.all(this.source.nodes.map((node) => startFaultProxy(node)));
    this.targetProxy = await startFaultProxy(this.target);
    this.router = await ClusterRouter.open(this.source);
    this.coordinator = this.processes.add(await startCoordinatorProcess(this.queue));
    await Promise.all(Array.from({ length: options.workers ?? 2 }, () => this.startWorker()));
  }

  /** A worker process with room for every shard, so one survivor can carry the plan. */
  async startWorker(): Promise<WorkerProcess> {
    const worker = this.processes.add(
      await startWorkerProcess(this.queue, { concurrency: 3, args: WORKER_LOCK_ARGS }),
    );
    this.workers.push(worker);
    return worker;
  }

  /** kill -9 of `worker`; resolves once it is dead. */
  async kill(worker: WorkerProcess): Promise<void> {
    worker.cli.child.kill('SIGKILL');
    await worker.cli.exited;
    this.workers.splice(this.workers.indexOf(worker), 1);
  }

  /** Submits the plan (source through the proxies, target through its proxy); returns the plan id. */
  async submit(name: string): Promise<string> {
    const seed = this.source.nodes[0];
    const natMap = Object.fromEntries(
      this.source.nodes.map((node, index) => [
        this.source.announced(node),
        `${this.sourceProxies[index].host}:${this.sourceProxies[index].port}`,
      ]),
    );
    const created = await call(this.coordinator.url, '/v1/plans', {
      body: {
        name,
        source: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`], natMap },
        // Exactly-once (standalone target): a replayed window shows as duplicated tokens only without it.
        target: {
          type: 'standalone',
          seeds: [`${this.targetProxy.host}:${this.targetProxy.port}`],
          exactlyOnce: true,
        },
      },
    });
    if (created.status !== 201) throw new Error(`plan refused: ${created.status} ${created.text}`);
    this.planId = created.body.id as string;
    return this.planId;
  }

  /** The source master a shard replicates from (its `reachable` is a proxy). */
  masterOf(shard: ShardView): RedisServer {
    const index = this.sourceProxies.findIndex((proxy) => `${proxy.host}:${proxy.port}` === shard.reachable);
    if (index < 0)
      throw new Error(`shard ${shard.id} replicates from ${shard.reachable}, not a proxy of the bed`);
    return this.source.nodes[index];
  }

  /**
   * Restarts a source master and waits until every node says `cluster_state:ok` again: a restart longer than the
   * node timeout (2 s) gets the master flagged FAIL, and with no replica to promote the cluster answers CLUSTERDOWN
   * until the flag is cleared.
   */
  async restartSourceMaster(master: RedisServer): Promise<void> {
    await master.restart();
    await waitFor(
      'every source node to report cluster_state:ok after the restart',
      async () => {
        const states = await Promise.all(
          this.source.nodes.map(async (node) => {
            const client = node.client();
            try {
              return String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
            } catch {
              return false;
            } finally {
              client.disconnect();
            }
          }),
        );
        return states.every(Boolean);
      },
      30_000,
    );
  }

  /** Full and partial resyncs served by the source masters, summed. */
  async resyncCounters(): Promise<ResyncCounters> {
    const masters = await this.source.masters();
    const all = await Promise.all(masters.map((node) => node.info('stats')));
    return all.reduce(
      (sum, stats) => ({
        full: sum.full + Number(stats.sync_full),
        partial: sum.partial + Number(stats.sync_partial_ok),
      }),
      { full: 0, partial: 0 },
    );
  }

  /**
   * Full and partial syncs the plan's shards report, summed: unlike the masters' INFO counters they survive a
   * master's restart, but they restart from zero when a shard moves to another worker.
   */
  async shardResyncs(): Promise<ResyncCounters> {
    const { shards } = await getPlan(this.coordinator.url, this.planId);
    return shards.reduce(
      (sum, shard) => ({ full: sum.full + shard.fullSyncs, partial: sum.partial + shard.partialSyncs }),
      { full: 0, partial: 0 },
    );
  }

  waitForShards(
    what: string,
    done: (shards: ShardView[]) => boolean,
    options: { timeoutMs?: number; pollMs?: number } = {},
  ) {
    return waitForShards(this.coordinator.url, this.planId, what, done, {
      context: this.context,
      timeoutMs: options.timeoutMs ?? 90_000,
      pollMs: options.pollMs,
    });
  }

  /**
   * Writes must have stopped. Waits until every shard's target confirmed its master's current offset, then until
   * the target holds every source token and key (duplicates cannot heal, so they do not hold the wait up), and
   * returns the comparison (tokens of the `load` named, or of every load).
   */
  async converge(
    load?: string,
    /** when the comparison is final; the default asks for no lost token and no other difference */
    settled: (comparison: TokenComparison) => boolean = (c) => c.lost === 0 && c.others.length === 0,
    timeoutMs = 90_000,
  ): Promise<TokenComparison> {
    const deadline = Date.now() + timeoutMs;
    const plan = await getPlan(this.coordinator.url, this.planId);
    const goals = await Promise.all(
      plan.shards.map(async (shard) =>
        Number((await this.masterOf(shard).info('replication')).master_repl_offset),
      ),
    );
    for (;;) {
      const shards = (await getPlan(this.coordinator.url, this.planId)).shards;
      if (shards.every((shard, index) => shard.acknowledgedOffset >= goals[index])) break;
      if (Date.now() > deadline) {
        throw new Error(
          `targets did not confirm ${JSON.stringify(goals)} within ${timeoutMs} ms: ` +
            JSON.stringify(shards.map((s) => [s.id, s.phase, s.acknowledgedOffset, s.lastError])) +
            `\n${this.context()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const target = this.target.client();
    try {
      for (;;) {
        const comparison = await compareTokens(this.router, target, load);
        if (settled(comparison) || Date.now() > deadline) {
          return comparison;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      target.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.processes.killAll();
    this.router?.disconnect();
    await Promise.all([
      ...this.sourceProxies.map((proxy) => proxy.close()),
      this.targetProxy?.close(),
      this.queue?.stop(),
      this.source?.stop(),
      this.target?.stop(),
    ]);
  }
}
