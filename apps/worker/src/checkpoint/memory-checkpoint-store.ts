import type { Checkpoint, CheckpointStore } from './checkpoint-store.js';

/**
 * Checkpoints in this process's memory: not durable (a restart forgets them, so the next run is a full sync).
 * For tests and for an embedder that keeps resume points itself; `run` uses files, workers the queue's Redis.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly saved = new Map<string, Checkpoint>();
  /** saves so far, of every shard */
  saves = 0;

  async load(shardId: string): Promise<Checkpoint | null> {
    return this.saved.get(shardId) ?? null;
  }

  async save(shardId: string, checkpoint: Checkpoint): Promise<void> {
    this.saves += 1;
    this.saved.set(shardId, checkpoint);
  }

  async clear(shardId: string): Promise<void> {
    this.saved.delete(shardId);
  }
}
