import type { Logger } from 'pino';
import { PeriodicPass } from '../periodic-pass.js';
import type { PlanService } from '../plan-service.js';
import { DEFAULT_HISTORY_INTERVAL_MS, type LagHistory } from './lag-history.js';

export interface HistorySamplerOptions {
  plans: PlanService;
  history: LagHistory;
  logger: Logger;
  /**
   * How often every active plan's shards are sampled into the history. 0 turns sampling off.
   * @defaultValue 5000
   */
  intervalMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * Samples the lag, ops/s and offsets of every shard of the active plans into a {@link LagHistory}, from the job
 * progress the workers report. Stopped and cut-over plans keep the history they have until it ages out.
 */
export class HistorySampler {
  readonly #passes: PeriodicPass;

  constructor(private readonly options: HistorySamplerOptions) {
    this.#passes = new PeriodicPass(
      'lag history sampling',
      options.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS,
      () => this.sample(),
      options.logger,
    );
  }

  start(): void {
    this.#passes.start();
  }

  async stop(): Promise<void> {
    await this.#passes.stop();
  }

  /** One pass: a sample of each shard of each active plan. */
  async sample(): Promise<void> {
    const { plans, history } = this.options;
    const all = await plans.list();
    history.retain(new Map(all.map((plan) => [plan.id, new Set(plan.shards.map((shard) => shard.id))])));
    for (const plan of all.filter((candidate) => candidate.state === 'active')) {
      const at = (this.options.now ?? Date.now)();
      for (const shard of await plans.status(plan)) {
        history.record(plan.id, shard.id, {
          at,
          lagBytes: shard.lagBytes,
          lagMs: shard.lagMs,
          opsPerSecond: shard.opsPerSecond,
          sourceOffset: shard.sourceOffset,
          acknowledgedOffset: shard.acknowledgedOffset,
        });
      }
    }
  }
}
