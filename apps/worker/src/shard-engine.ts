import type { ShardCaps, ShardJobData } from '@shardbridge/plan';
import type { ShardProgress, ShardStopOutcome } from './shard-progress.js';
import { ShardSync } from './shard-sync.js';
import type { MigrationBarrier } from './resharding/migration-barrier.js';
import { ScanSync } from './scan/scan-sync.js';
import { syncOptionsFromJob, type SyncOptionsFromJobContext } from './queue/sync-options-from-job.js';

/** What the BullMQ worker and `run --direct` need of a shard's engine, whichever mode copies the data. */
export interface ShardEngine {
  readonly progress: ShardProgress;
  /** runs until `stop()` (resolves) or a non-transient error (rejects with a ShardSyncError) */
  run(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stops without writing anything more to the target (the shard may already be another worker's): unsent writes
   * are dropped, no checkpoint is saved. Engines whose writes are all idempotent may leave it out (`stop()` then).
   */
  abort?(): Promise<void>;
  /** what the last stop saved and what it did not (replication engines); null until `run()` settled after a stop */
  readonly stopOutcome?: ShardStopOutcome | null;
  /** new rate caps from now on, without a resync (replication engines; scan mode has no caps) */
  setRateCaps?(caps: ShardCaps): void;
}

/** Settings of the engine that come from the process running it, not from the job. */
export interface ShardEngineRuntime {
  onProgress?: (progress: ShardProgress) => void;
  progressIntervalMs?: number;
  maxReconnectAttempts?: number;
  /** replication only: bound on a graceful stop's flush and checkpoint (see ShardSyncOptions.stopTimeoutMs) */
  stopTimeoutMs?: number;
  /** replication only: orders slot migrations with the plan's other shards (see ShardSyncOptions) */
  migrationBarrier?: MigrationBarrier;
  /** replication only: pass the barrier before the first snapshot (a shard added by re-planning) */
  barrierBeforeFirstRdb?: boolean;
  /** replication only: the shard's rate caps at start (see ShardSyncOptions.rateCaps) */
  rateCaps?: ShardCaps;
}

/**
 * The engine a job's `mode` asks for: `scan` → ScanSync (SCAN + DUMP/RESTORE + keyspace notifications, for
 * sources that forbid PSYNC), anything else → ShardSync (replication). Both are built from the same job-data
 * mapping, so connection settings (NAT, TLS, secrets) are honoured alike.
 * @throws ShardJobDataError for job data that cannot describe a shard
 */
export function shardEngineForJob(
  data: ShardJobData,
  context: SyncOptionsFromJobContext,
  runtime: ShardEngineRuntime = {},
): ShardEngine {
  // The connection settings are the replication engine's; only the mode differs.
  const options = syncOptionsFromJob(data.mode === 'scan' ? { ...data, mode: 'sync' } : data, context);
  if (data.mode === 'scan') {
    return new ScanSync({
      shardId: options.shardId,
      source: options.source,
      target: options.target,
      logger: options.logger,
      sourceNode: options.sourceNode,
      locator: options.locator,
      configureSource: data.configureSource ?? false,
      slots: data.slots,
      onProgress: runtime.onProgress,
      progressIntervalMs: runtime.progressIntervalMs,
      maxReconnectAttempts: runtime.maxReconnectAttempts,
    });
  }
  return new ShardSync({ ...options, ...runtime });
}
