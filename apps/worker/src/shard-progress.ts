import { emptyRewriteCounters } from './rewrite/rewriting-key-writer.js';
import type {
  ShardLinkHealth,
  ShardMigrationCounters,
  ShardSyncCounters,
  ShardSyncPhase,
} from '@shardbridge/plan';

/** Where a shard is in its life. */
export type ShardPhase = ShardSyncPhase;

/** A snapshot of one shard's sync, reported about once a second. */
export interface ShardProgress extends ShardSyncCounters, ShardLinkHealth, ShardMigrationCounters {
  shardId: string;
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
