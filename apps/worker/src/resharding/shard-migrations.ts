import type { Logger } from 'pino';
import type { ShardMigrationCounters } from '@shardbridge/plan';
import type { BarrierOutcome, MigrationBarrier } from './migration-barrier.js';
import { MigrationGate, type MigrationGateHooks } from './migration-gate.js';

export interface ShardMigrationsOptions {
  barrier: MigrationBarrier;
  /** pass the barrier once before the first snapshot is loaded (a shard added by re-planning) */
  beforeFirstRdb: boolean;
  logger: Logger;
  /** the shard's progress, whose barrier counters this updates */
  counters: ShardMigrationCounters;
}

/**
 * What one shard does about slot migrations, across its links: a gate per link for the stream's RESTORE-ASKINGs,
 * the one-time wait before the first snapshot of an added shard, and the counters and warnings of both.
 */
export class ShardMigrations {
  private firstRdbDone = false;

  constructor(private readonly options: ShardMigrationsOptions) {}

  /** A gate for one replication link (closed by the caller when the link ends). */
  gate(hooks: Omit<MigrationGateHooks, 'onOutcome'>): MigrationGate {
    return new MigrationGate(this.options.barrier, {
      ...hooks,
      onOutcome: (outcome, keys) => this.record(outcome, `${keys} migrated key(s)`),
    });
  }

  /** Resolves at once unless this is an added shard's first snapshot; rejects only when `signal` aborts. */
  async beforeFirstRdb(signal: AbortSignal): Promise<void> {
    if (!this.options.beforeFirstRdb || this.firstRdbDone) return;
    this.options.logger.info(
      'shard added by re-planning: waiting for the other shards before loading its snapshot',
    );
    this.record(await this.options.barrier.pass(signal), 'the first snapshot');
    this.firstRdbDone = true;
  }

  private record(outcome: BarrierOutcome, what: string): void {
    const { counters, logger } = this.options;
    counters.migrationBarriers += 1;
    if (outcome.reached) return;
    counters.migrationBarrierTimeouts += 1;
    logger.warn(
      { lagging: outcome.lagging, waitedMs: outcome.waitedMs },
      `migration barrier timed out: applying ${what} before shard(s) ${outcome.lagging.join(', ')} confirmed ` +
        'their source offsets; a key moved by resharding may be stale or missing on the target until rewritten',
    );
  }
}
