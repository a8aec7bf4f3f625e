import type { Logger } from 'pino';
import type { ShardSyncPhase } from '@shardbridge/plan';
import { errorCode } from '../sync-errors.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** Where the shard stands, as a save needs it: the acknowledged offset and the source db selected there. */
export interface AcknowledgedPosition {
  replid: string | null;
  offset: number;
  db: number;
  phase: ShardSyncPhase;
}

export interface CheckpointSaverOptions {
  shardId: string;
  store: CheckpointStore;
  logger: Logger;
  /** the shard's current position, read at each save */
  position: () => AcknowledgedPosition;
  /** minimum time between two saves while data flows. @defaultValue 1000 */
  intervalMs?: number;
}

/**
 * Saves a shard's checkpoint `(replid, acknowledged offset, db)`: at most once per interval while acknowledgements
 * flow, once more after the last of them (a trailing save, so the position before a quiet spell is stored too:
 * other shards' migration barriers wait for it, and an idle shard's acks are rare), and on demand. Only in a phase
 * with a resume point (not mid-RDB); never twice for the same position; never two saves at once.
 */
export class CheckpointSaver {
  private saved = { replid: '', offset: -2 };
  private lastSaveAt = 0;
  private saving: Promise<void> | null = null;
  private trailing: NodeJS.Timeout | null = null;

  constructor(private readonly options: CheckpointSaverOptions) {}

  /** What the store holds now (after a load, or cleared before a full resync). */
  reset(saved: { replid: string; offset: number } | null): void {
    this.saved = saved ? { replid: saved.replid, offset: saved.offset } : { replid: '', offset: -2 };
  }

  /** The position the store holds, as far as this saver knows (loaded, or saved by it); null: none. */
  get stored(): { replid: string; offset: number } | null {
    return this.saved.offset >= 0 ? { ...this.saved } : null;
  }

  /** The acknowledged offset moved: save now if the interval allows, else once it has passed. */
  acknowledged(): void {
    const wait = (this.options.intervalMs ?? 1000) - (Date.now() - this.lastSaveAt);
    if (wait <= 0 && !this.saving) {
      void this.save(false).catch((error: Error) => this.failed(error));
    } else if (!this.trailing) {
      this.trailing = setTimeout(
        () => {
          this.trailing = null;
          void this.save(true).catch((error: Error) => this.failed(error));
        },
        Math.max(wait, 10),
      );
      this.trailing.unref();
    }
  }

  /** Saves the current position when it moved; with `force`, also right after a save already under way. */
  async save(force: boolean): Promise<void> {
    // A loop, not one wait: several callers woken by the same finished save must not all start one at once (a forced
    // save waits until none runs, so saves stay one at a time and each reads the newest position).
    while (this.saving) {
      await this.saving;
      if (!force) return;
    }
    const { replid, offset, db, phase } = this.options.position();
    if (!replid || offset < 0 || (phase !== 'incremental' && phase !== 'stopping' && phase !== 'connecting'))
      return;
    if (this.saved.replid === replid && this.saved.offset === offset) return;
    this.lastSaveAt = Date.now();
    this.saving = this.options.store
      .save(this.options.shardId, { replid, offset, db, savedAt: Date.now() })
      .then(() => {
        this.saved = { replid, offset };
      })
      .finally(() => {
        this.saving = null;
      });
    await this.saving;
  }

  /** No more trailing save (the shard ended). */
  stop(): void {
    if (this.trailing) clearTimeout(this.trailing);
    this.trailing = null;
  }

  private failed(error: Error): void {
    this.options.logger.error({ code: errorCode(error) }, `checkpoint save failed: ${error.message}`);
  }
}
