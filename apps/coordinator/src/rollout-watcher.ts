import type { Logger } from 'pino';
import type { ShardJobProgress } from '@shardbridge/plan';
import { PeriodicPass } from './periodic-pass.js';
import type { PlanService } from './plan-service.js';
import type { StoredPlan } from './plan-store.js';

export interface RolloutWatcherOptions {
  plans: PlanService;
  logger: Logger;
  /**
   * How often the canaries' progress is read.
   * @defaultValue 1000
   */
  intervalMs?: number;
  /**
   * A canary whose last progress report is older than this is not healthy: its worker may be gone while BullMQ
   * still shows the job active. Generous, because the report's clock is the worker's host's.
   * @defaultValue 15000
   */
  staleAfterMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * Releases the rest of a plan's shards once its canaries have held incremental sync within `maxLagMs` for
 * `healthyFor` without a break. It keeps no state in Redis beyond the plan's `rollout` field: it scans the active
 * plans on every tick, so a restarted coordinator resumes pending rollouts; the health clock restarts with it
 * (health is only vouched for while observed).
 */
export class RolloutWatcher {
  /** planId → unix ms since which every canary was seen healthy */
  readonly #healthySince = new Map<string, number>();
  readonly #passes: PeriodicPass;

  constructor(private readonly options: RolloutWatcherOptions) {
    this.#passes = new PeriodicPass(
      'rollout scan',
      options.intervalMs ?? 1_000,
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

  /** One pass over the active plans with a pending canary rollout. */
  async scan(): Promise<void> {
    const pending = (await this.options.plans.list()).filter(
      (plan) => plan.state === 'active' && plan.rollout?.stage === 'canary' && plan.plan.rollout,
    );
    const live = new Set(pending.map((plan) => plan.id));
    for (const id of this.#healthySince.keys()) if (!live.has(id)) this.#healthySince.delete(id);
    for (const plan of pending) await this.check(plan);
  }

  private async check(plan: StoredPlan): Promise<void> {
    const { maxLagMs, healthyFor } = plan.plan.rollout!;
    const now = (this.options.now ?? Date.now)();
    const healthy = await this.canariesHealthy(plan, maxLagMs, now);
    if (!healthy) {
      this.#healthySince.delete(plan.id);
      return;
    }
    const since = this.#healthySince.get(plan.id) ?? now;
    this.#healthySince.set(plan.id, since);
    if (now - since < healthyFor) return;
    this.#healthySince.delete(plan.id);
    await this.options.plans.completeRollout(plan);
  }

  private async canariesHealthy(plan: StoredPlan, maxLagMs: number, now: number): Promise<boolean> {
    const staleAfterMs = this.options.staleAfterMs ?? 15_000;
    const canaries = new Set(plan.rollout?.canaryShards ?? []);
    for (const shard of plan.shards.filter((candidate) => canaries.has(candidate.id))) {
      const { job, state } = await this.options.plans.jobOf(shard);
      if (!job || state !== 'active') return false;
      const progress = job.progress as Partial<ShardJobProgress> | number | undefined;
      if (typeof progress !== 'object' || progress === null) return false;
      if (progress.phase !== 'incremental' || typeof progress.lagMs !== 'number') return false;
      if (progress.lagMs > maxLagMs) return false;
      if (typeof progress.reportedAt === 'number' && now - progress.reportedAt > staleAfterMs) return false;
    }
    return canaries.size > 0;
  }
}
