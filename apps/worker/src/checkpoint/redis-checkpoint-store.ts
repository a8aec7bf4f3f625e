import type { Redis } from 'ioredis';
import { keys } from '@shardbridge/plan';
import { CheckpointCorruptError, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';

/**
 * Checkpoints of distributed workers, one hash per shard in the queue's Redis at `keys.checkpoint(shardId)`
 * (fields `replid`, `offset`, `db`, `savedAt`), so whichever worker takes a shard's job next resumes where the last
 * one stopped.
 *
 * Durability: a save is one `HSET` (atomic: a reader sees the old or the new checkpoint, never a mix) and is as
 * durable as the queue's Redis makes it. Run that Redis with `appendonly yes` (and `appendfsync everysec` or
 * `always`): without the AOF a restart of the queue's Redis loses the checkpoints written since its last RDB
 * snapshot, and shards resume from older offsets, re-applying commands the target already has.
 *
 * The store does not own the client: closing it is the caller's business.
 */
export class RedisCheckpointStore implements CheckpointStore {
  constructor(private readonly client: Redis) {}

  async load(shardId: string): Promise<Checkpoint | null> {
    const key = keys.checkpoint(shardId);
    const fields = await this.client.hgetall(key);
    if (Object.keys(fields).length === 0) return null;
    try {
      const { replid } = fields;
      if (typeof replid !== 'string' || !/^[0-9a-f]{40}$/.test(replid)) throw new Error('bad replid');
      const offset = integerField(fields.offset, 'offset');
      const db = integerField(fields.db, 'db');
      if (offset < 0) throw new Error('bad offset');
      if (db < 0) throw new Error('bad db');
      return { replid, offset, db, savedAt: Number(fields.savedAt ?? 0) || 0 };
    } catch (error) {
      throw new CheckpointCorruptError(
        `checkpoint ${key} in the queue's Redis is unreadable (${(error as Error).message}); ` +
          `delete it (DEL ${key}) to force a full resync of shard ${shardId}`,
      );
    }
  }

  async save(shardId: string, checkpoint: Checkpoint): Promise<void> {
    await this.client.hset(keys.checkpoint(shardId), {
      replid: checkpoint.replid,
      offset: String(checkpoint.offset),
      db: String(checkpoint.db),
      savedAt: String(checkpoint.savedAt),
    });
  }

  async clear(shardId: string): Promise<void> {
    await this.client.del(keys.checkpoint(shardId));
  }
}

function integerField(text: string | undefined, name: string): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(value)) throw new Error(`bad ${name}`);
  return value;
}
