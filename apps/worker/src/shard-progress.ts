import { emptyRewriteCounters } from './rewrite/rewriting-key-writer.js';
import type {
  ShardLinkHealth,
  ShardMigrationCounters,
  ShardRateCapState,
  ShardSyncCounters,
  ShardSyncPhase,
  SourceOutputBuffer,
} from '@shardbridge/plan';

/** Where a shard is in its life. */
export type ShardPhase = ShardSyncPhase;

/** A snapshot of one shard's sync, reported about once a second. */
export interface ShardProgress extends ShardSyncCounters, ShardLinkHealth, ShardMigrationCounters {
  shardId: string;
  /** age of the oldest unconfirmed stream byte (see StreamLag); absent: the reporter estimates it from snapshots */
  lagMs?: number;
  /** the caps in force and whether the shard waits for them; absent: the engine has no caps */
  rateCap?: ShardRateCapState;
  /** the source's replica output buffer for this shard; absent: the engine does not read it */
  outputBuffer?: SourceOutputBuffer;
}

export function initialProgress(shardId: string): ShardProgress {
  return {
    shardId,
    phase: 'connecting',
    replid: null,
    rdbBytesDone: 0,
    rdbBytesTotal: null,
    keysWritten: 0,
    commandsApplied: 0,
    sourceOffset: -1,
    acknowledgedOffset: -1,
    lagBytes: 0,
    fullSyncs: 0,
    partialSyncs: 0,
    reconnects: 0,
    lastError: null,
    rttMs: null,
    lastDisconnect: null,
    sourceNode: null,
    sourceFailovers: 0,
    keyRewrite: emptyRewriteCounters(),
    migrationBarriers: 0,
    migrationBarrierTimeouts: 0,
  };
}

/** The delay before reconnect attempt `attempt` (1-based): doubling from `baseMs`, capped at 30 s, ±20% jitter. */
export function reconnectDelayMs(attempt: number, baseMs: number): number {
  const raw = Math.min(30_000, baseMs * 2 ** (attempt - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/** Whether a shard may move from phase `from` to `to`: a stopping shard only ends (stopped or failed). */
export function phaseChangeAllowed(from: ShardPhase, to: ShardPhase): boolean {
  return from !== to && (from !== 'stopping' || to === 'stopped' || to === 'failed');
}

/** An error as progress reports it. */
export function lastErrorOf(error: unknown, code: string): { code: string; message: string } {
  return { code, message: (error as Error)?.message ?? String(error) };
}

/**
 * What a shard's stop left behind, for the operator's last line: only what happened. Filled in when `run()`
 * settles after `stop()`; null before.
 */
export interface ShardStopOutcome {
  /** the checkpoint the store holds after the stop (saved now or earlier); null: none, the next run full-syncs */
  checkpoint: { replid: string; offset: number } | null;
  /** stopped while the RDB was loading: the keys loaded so far stay on the target, nothing can resume from them */
  duringFullSync: boolean;
  /** keys of the full sync written to the target before the stop (counted as sent) */
  keysLoaded: number;
  /** writes the target had not confirmed when the stop's grace time ran out (they are sent again on resume) */
  unconfirmedWrites: boolean;
  /** why the checkpoint could not be saved on the way out (timeout, queue Redis gone); null when it was, or none was due */
  checkpointError: string | null;
}
