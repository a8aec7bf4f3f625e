/**
 * Where a shard resumes from: the source's replication id and the acknowledged offset (the last source byte whose
 * effects the target confirmed). A resume sends `PSYNC <replid> <offset + 1>`.
 */
export interface Checkpoint {
  replid: string;
  offset: number;
  /** the source db selected at `offset`: a partial resync does not repeat the SELECT */
  db: number;
  /** unix ms of the save */
  savedAt: number;
}

/** Durable per-shard checkpoints. `run` keeps them in files; distributed workers keep them in the queue's Redis. */
export interface CheckpointStore {
  load(shardId: string): Promise<Checkpoint | null>;
  /** must be durable when the promise resolves */
  save(shardId: string, checkpoint: Checkpoint): Promise<void>;
  /** forget the shard's resume point (a full resync has started and the old one no longer describes the target) */
  clear(shardId: string): Promise<void>;
}

export class CheckpointCorruptError extends Error {
  readonly code = 'CHECKPOINT_CORRUPT';
  override name = 'CheckpointCorruptError';
}
