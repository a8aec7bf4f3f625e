import type { Redis } from 'ioredis';
import { keys } from '@shardbridge/plan';
import { CheckpointCorruptError, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';

/**
 * Writes the checkpoint hash only while the fence key holds the caller's token.
 * KEYS[1] checkpoint hash, KEYS[2] fence key (a BullMQ job lock). ARGV[1] token, ARGV[2..] field/value pairs;
 * no pairs = delete the hash. Returns 1 when written, 0 when the fence is not (or no longer) the caller's.
 */
const FENCED_WRITE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if #ARGV == 1 then redis.call('DEL', KEYS[1]) else redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
return 1
`;

export interface RedisCheckpointStoreOptions {
  /**
   * Write (save and clear) only while `GET fence.key` equals `fence.token`. A worker passes its job's BullMQ lock,
   * so one that lost the job (its lock lapsed while it was cut off, and another worker took the shard over) cannot
   * move the checkpoint of the worker that now owns the shard. Both keys must live on the same Redis node.
   * @defaultValue unfenced: every write goes through
   */
  fence?: { key: string; token: string };
}

/** A fenced write was refused: this worker no longer holds the shard's job. */
export class CheckpointFencedError extends Error {
  readonly code = 'CHECKPOINT_FENCED';
  override name = 'CheckpointFencedError';
}

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
  constructor(
    private readonly client: Redis,
    private readonly options: RedisCheckpointStoreOptions = {},
  ) {}

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
    const fields = {
      replid: checkpoint.replid,
      offset: String(checkpoint.offset),
      db: String(checkpoint.db),
      savedAt: String(checkpoint.savedAt),
    };
    if (!this.options.fence) {
      await this.client.hset(keys.checkpoint(shardId), fields);
      return;
    }
    await this.fencedWrite(shardId, Object.entries(fields).flat());
  }

  async clear(shardId: string): Promise<void> {
    if (!this.options.fence) {
      await this.client.del(keys.checkpoint(shardId));
      return;
    }
    await this.fencedWrite(shardId, []);
  }

  private async fencedWrite(shardId: string, pairs: string[]): Promise<void> {
    const { key, token } = this.options.fence!;
    const written = await this.client.eval(FENCED_WRITE, 2, keys.checkpoint(shardId), key, token, ...pairs);
    if (written !== 1) {
      throw new CheckpointFencedError(
        `checkpoint of shard ${shardId} not written: this worker no longer holds the shard's job (its lock ` +
          'lapsed or another worker took the shard over)',
      );
    }
  }
}

function integerField(text: string | undefined, name: string): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(value)) throw new Error(`bad ${name}`);
  return value;
}
