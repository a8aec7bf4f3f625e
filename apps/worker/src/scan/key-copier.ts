import type { TargetWriter } from '@shardbridge/target';
import { ModuleValueError } from '../sync-errors.js';
import type { KeyRead, SourceReader } from './source-reader.js';

const RDB_TYPE_MODULE = 6;
const RDB_TYPE_MODULE_2 = 7;
const SELECT = Buffer.from('SELECT');
const DEL = Buffer.from('DEL');
const GONE: KeyRead = { payload: null, pttlMs: -2 };

/**
 * Why a key is copied: found by SCAN, named by a notification, or found on the target by a reconcile (then it is
 * only checked with EXISTS and deleted from the target when the source does not hold it).
 */
export type CopyReason = 'scan' | 'reread' | 'reconcile';

export interface KeyCopierEvents {
  /** one key handled: restored, deleted because the source no longer has it, or (reconcile) still on the source */
  onCopied(outcome: 'restored' | 'deleted' | 'kept', reason: CopyReason): void;
  /** a read or a write failed; the copier is unusable afterwards */
  onError(error: Error): void;
  /** there is room for more copies again (after {@link KeyCopier.hasRoom} was false) */
  onRoom(): void;
}

interface PendingCopy {
  db: number;
  key: Buffer;
  reason: CopyReason;
  /** the read, or for a reconcile check `'present'`; null while in flight */
  read: KeyRead | 'present' | null;
}

/**
 * Copies keys from the source node to the target: `DUMP` + `PTTL` → `RESTORE key <abs ms> payload REPLACE ABSTTL`
 * (through the TargetWriter), or `DEL` when the source no longer has the key; a reconcile check is `EXISTS` → `DEL`
 * when absent (safe against a concurrent re-creation: its notification's re-read is issued, hence written, after
 * the check). Reads are pipelined up to
 * `maxInFlight`; their writes are handed to the target strictly in the order the reads were issued, so when one
 * key is read twice the later read is written last and wins.
 *
 * Memory: every read in flight holds its whole DUMP payload until written — a single very large key (a 500 MB
 * hash) is a 500 MB buffer here and in the target's in-flight window. TTLs: PTTL is turned into an absolute time
 * with this host's clock when the reply arrives (the RESTORE uses ABSTTL), so clock skew between this host and
 * the target shifts expiries by that skew.
 */
export class KeyCopier {
  private readonly queue: PendingCopy[] = [];
  private head = 0;
  private writerFull = false;
  private failed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly reader: SourceReader,
    private readonly writer: TargetWriter,
    private readonly events: KeyCopierEvents,
    private readonly maxInFlight: number,
  ) {
    writer.on('drain', this.onDrain);
  }

  /** reads issued and not yet written */
  get inFlight(): number {
    return this.queue.length - this.head;
  }

  get hasRoom(): boolean {
    return !this.failed && !this.writerFull && this.inFlight < this.maxInFlight;
  }

  copy(db: number, key: Buffer, reason: CopyReason): void {
    if (this.failed) return;
    const pending: PendingCopy = { db, key, reason, read: null };
    this.queue.push(pending);
    const read: Promise<KeyRead | 'present'> =
      reason === 'reconcile'
        ? this.reader.exists(db, key).then((present) => (present ? 'present' : GONE))
        : this.reader.read(db, key);
    read.then(
      (read) => {
        pending.read = read;
        this.writeReady();
      },
      (error: Error) => this.fail(error),
    );
  }

  /** Resolves once every copy issued so far is handed to the target (not yet confirmed: flush the writer). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops listening to the writer; copies in flight are abandoned. */
  detach(): void {
    this.failed = true;
    this.writer.off('drain', this.onDrain);
    this.releaseIdle();
  }

  private writeReady(): void {
    if (this.failed) return; // detached or failed: nothing more reaches the target from this copier
    const hadRoom = this.hasRoom;
    try {
      while (this.head < this.queue.length && this.queue[this.head].read) {
        const pending = this.queue[this.head];
        this.queue[this.head] = undefined as unknown as PendingCopy;
        this.head += 1;
        this.write(pending, pending.read!);
      }
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.inFlight === 0) this.releaseIdle();
    if (!hadRoom && this.hasRoom) this.events.onRoom();
  }

  private write(pending: PendingCopy, read: KeyRead | 'present'): void {
    const { db, key } = pending;
    if (read === 'present') {
      this.events.onCopied('kept', pending.reason);
      return;
    }
    // -2: gone between DUMP and PTTL (its notification re-reads it anyway)
    if (read.payload === null || read.pttlMs === -2) {
      this.writer.applyCommand([SELECT, Buffer.from(String(db))], -1);
      if (!this.writer.applyCommand([DEL, key], -1)) this.writerFull = true;
      this.events.onCopied('deleted', pending.reason);
      return;
    }
    const typeByte = read.payload[0];
    if (typeByte === RDB_TYPE_MODULE || typeByte === RDB_TYPE_MODULE_2) throw new ModuleValueError(db, key);
    const accepted = this.writer.restoreKey({
      db,
      key,
      expireAt: read.pttlMs >= 0 ? Date.now() + read.pttlMs : null,
      payload: read.payload,
    });
    if (!accepted) this.writerFull = true;
    this.events.onCopied('restored', pending.reason);
  }

  private readonly onDrain = (): void => {
    if (!this.writerFull) return;
    this.writerFull = false;
    if (this.hasRoom) this.events.onRoom();
  };

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.releaseIdle();
    this.events.onError(error);
  }

  private releaseIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
