/**
 * The ordering barrier of slot migrations (resharding) between source shards, as ShardSync sees it. ShardSync only
 * knows this interface; where the other shards' positions come from (the queue's Redis, for distributed workers)
 * is the implementation's business.
 */

/** How one pass of the barrier ended. */
export interface BarrierOutcome {
  /** every other shard whose goal could be read confirmed it; false after the timeout */
  reached: boolean;
  waitedMs: number;
  /** shards that had not confirmed their goal when the barrier gave up (empty when reached) */
  lagging: string[];
  /** shards whose source master could not be asked for its offset: they were not waited for */
  unknown: string[];
}

export interface MigrationBarrier {
  /**
   * Reads, now, the replication offset of every OTHER shard's source master (its goal), then resolves once each
   * of those shards has a checkpoint at or past its goal, or after the barrier's timeout. Never rejects for a slow
   * shard; rejects only when `signal` aborts (the link ended).
   *
   * Called after a `RESTORE-ASKING` was received: the old owner of the key blocks inside MIGRATE until this
   * shard's master answered it, so the goal read afterwards includes the old owner's `DEL` of the key.
   */
  pass(signal: AbortSignal): Promise<BarrierOutcome>;
}

/** The name a master propagates for a key it imported by slot migration. */
export function isMigrationImport(args: readonly Buffer[]): boolean {
  const name = args[0];
  return (
    name !== undefined && name.length === 14 && name.toString('latin1').toUpperCase() === 'RESTORE-ASKING'
  );
}
