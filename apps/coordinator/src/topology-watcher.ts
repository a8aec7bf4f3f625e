import type { Logger } from 'pino';
import {
  NodeProbeError,
  openNode,
  parseHostPort,
  resolveSecret,
  resolveTls,
  type ShardRecord,
  type TopologyEvent,
  liveSourceOf,
} from '@shardbridge/plan';
import type { PlanService } from './plan-service.js';
import type { StoredPlan } from './plan-store.js';
import type { DiscoverShards } from './shard-discovery.js';
import { diffTopology } from './topology-diff.js';
import { PeriodicPass } from './periodic-pass.js';

export interface TopologyWatcherOptions {
  plans: PlanService;
  discover: DiscoverShards;
  logger: Logger;
  /**
   * How often the source topology of each active cluster-source plan is read again. 0 turns the watcher off.
   * @defaultValue 10000
   */
  intervalMs?: number;
  /** per-node connect timeout of each re-discovery. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** told about every recorded event (the Prometheus counter) */
  onEvent?: (planId: string, event: TopologyEvent) => void;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * Follows resharding of cluster sources: for every active cluster-source plan it re-discovers the masters (through
 * the plan's NAT mapping, as planning did), compares slot ownership with the plan's shard records and, on a change,
 * records `topologyEvents` on the plan, updates the records (and their jobs' data), queues a job for a master that
 * got slots no shard covered, and marks a shard whose master lost every slot drained. A failover (a new master for
 * a shard's slots) only updates the shard's record: its worker follows it by itself. Like the rollout watcher it
 * keeps no state of its own: a restarted coordinator compares with the stored records again.
 */
export class TopologyWatcher {
  readonly #passes: PeriodicPass;

  constructor(private readonly options: TopologyWatcherOptions) {
    this.#passes = new PeriodicPass(
      'topology scan',
      options.intervalMs ?? 10_000,
      () => this.scan(),
      options.logger,
    );
  }

  start(): void {
    this.#passes.start();
  }

  async stop(): Promise<void> {
    await this.#passes.stop();
  }

  /** One pass over the active cluster-source plans (manual shard lists are the operator's and are not followed). */
  async scan(): Promise<void> {
    const watched = (await this.options.plans.list()).filter(
      (plan) => plan.state === 'active' && plan.plan.source.type === 'cluster' && !plan.plan.source.shards,
    );
    for (const plan of watched) {
      try {
        await this.check(plan);
      } catch (error) {
        // An unreachable master or a half-done failover: the next tick sees a settled topology.
        this.options.logger.warn(
          { planId: plan.id, code: (error as { code?: string }).code },
          `topology check of plan ${plan.id} skipped: ${(error as Error).message}`,
        );
      }
    }
  }

  private async check(plan: StoredPlan): Promise<void> {
    const masters = await this.options.discover(plan.plan.source, {
      connectTimeoutMs: this.options.connectTimeoutMs ?? 5_000,
    });
    const listed = new Set(masters.map((master) => master.nodeId));
    const unlisted = plan.shards.filter((shard) => !listed.has(shard.nodeId));
    const stillMasters = new Set<string>();
    for (const shard of unlisted) if (await this.saysMaster(plan, shard)) stillMasters.add(shard.id);
    const now = (this.options.now ?? Date.now)();
    const change = diffTopology(
      plan.shards,
      masters,
      now,
      (n) => `${plan.id}-${plan.shards.length + n}`,
      stillMasters,
    );
    if (change.updated.length === 0 && change.added.length === 0 && change.events.length === 0) return;
    await this.options.plans.applyTopology(plan, change);
    for (const event of change.events) {
      this.options.onEvent?.(plan.id, event);
      const what =
        event.kind === 'slots-moved'
          ? `slots moved from ${event.from} to ${event.to}`
          : event.kind === 'shard-added'
            ? `shard ${event.to} added (a master got slots no shard covered); its job is queued`
            : `shard ${event.from} drained (its master serves no slot)`;
      this.options.logger.warn({ planId: plan.id, ...event }, `resharding: ${what}`);
    }
  }

  /** Whether a shard's recorded node still answers `role:master` (emptied by resharding rather than failed over). */
  private async saysMaster(plan: StoredPlan, shard: ShardRecord): Promise<boolean> {
    const address = parseHostPort(shard.reachable);
    if (!address) return false;
    const source = liveSourceOf(plan.plan);
    const tls = resolveTls(source.tls, 'source.tls', resolveSecret);
    try {
      const link = await openNode(address, {
        username: source.username,
        password: resolveSecret(source.password, 'source.password'),
        tls: tls.enabled,
        tlsOptions: tls.enabled ? tls.options : undefined,
        timeoutMs: this.options.connectTimeoutMs ?? 5_000,
      });
      try {
        return /^role:master/m.test(String(await link.call('INFO', 'replication')));
      } finally {
        link.close();
      }
    } catch (error) {
      if (error instanceof NodeProbeError) return false;
      throw error;
    }
  }
}
