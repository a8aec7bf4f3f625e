/** Where a shard is in its life. */
export type ShardPhase = 'connecting' | 'full-sync' | 'incremental' | 'stopping' | 'stopped' | 'failed';

/** A snapshot of one shard's sync, reported about once a second. Offsets are replication-stream bytes. */
export interface ShardProgress {
  shardId: string;
  phase: ShardPhase;
  replid: string | null;
  /** RDB bytes received in the current full sync */
  rdbBytesDone: number;
  /** RDB size announced by the source; null for a diskless transfer or before a full sync */
  rdbBytesTotal: number | null;
  /** keys restored from RDBs since this process started */
  keysWritten: number;
  /** replicated commands applied since this process started */
  commandsApplied: number;
  /** offset of the last source byte received */
  sourceOffset: number;
  /** offset of the last source byte whose effects the target confirmed */
  acknowledgedOffset: number;
  /** sourceOffset - acknowledgedOffset (0 when caught up) */
  lagBytes: number;
  fullSyncs: number;
  partialSyncs: number;
  reconnects: number;
  lastError: { code: string; message: string } | null;
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
  };
}
