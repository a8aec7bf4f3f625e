import { INTERNAL, type PendingReply } from './transport.js';

const b = (text: string): Buffer => Buffer.from(text);

/** Commands per batch before it is sent at once. */
const MAX_COMMANDS = 256;
const MAX_BYTES = 1024 * 1024;

/** One MULTI … EXEC: the stream's commands, then the marker saying how far the stream got. */
export interface MarkedBatchUnit {
  /** db the connection must be in before MULTI */
  startDb: number;
  commands: Buffer[][];
  pendings: PendingReply[];
  /** source offset just after the batch's last command */
  offset: number;
  /** stream db after the batch */
  endDb: number;
  /**
   * false while the last command added is inside a source transaction whose end is not in yet: then the batch
   * holds commands beyond `offset`, and sealing it would let its marker claim less than its data applied
   */
  complete: boolean;
}

/** What the marker key holds: the replication position the target's data reflects. */
export interface AppliedMarker {
  replid: string;
  offset: number;
  /** the stream's (source) db at that offset */
  db: number;
}

export function formatAppliedMarker(marker: AppliedMarker): string {
  return `${marker.replid} ${marker.offset} ${marker.db}`;
}

/** @returns null for a value that is not a marker */
export function parseAppliedMarker(text: string | null): AppliedMarker | null {
  const match = /^([0-9a-f]{40}) (\d+) (\d+)$/.exec(text ?? '');
  return match ? { replid: match[1], offset: Number(match[2]), db: Number(match[3]) } : null;
}

/**
 * Exactly-once for a standalone target: the stream's commands are gathered (within one event-loop turn, up to
 * 256 commands or 1 MiB, more while the previous batch is out) into a MULTI … EXEC that ends with
 * `SET <markerKey> "<replid> <offset> <db>"` in db 0. The target applies a batch and its marker together or not at
 * all, so after a crash the marker says exactly which source offset the data reflects, and the shard resumes there.
 *
 * One batch is out at a time (group commit): a batch refused at queueing time (OOM, NOPERM → EXECABORT) must not be
 * followed by a later batch whose marker would claim its offset, so the next batch is sent only once the previous
 * EXEC succeeded; everything that arrives meanwhile joins the next batch.
 */
export class MarkedBatch {
  /** the replication id the current stream belongs to (set on FULLRESYNC / +CONTINUE) */
  replid = '';
  private unit: MarkedBatchUnit | null = null;
  private bytes = 0;
  private scheduled = false;
  /** sealed batches (with their tracker entry) waiting for the one out to be confirmed */
  private readonly sealed: Array<{ unit: MarkedBatchUnit; seq: number }> = [];
  private out = false;

  /**
   * @param seal registers a sealed batch's end offset (the writer's tracker entry), in stream order; returns its seq
   * @param send puts one sealed batch on the wire; the writer calls {@link confirmed} when its EXEC succeeded
   */
  constructor(
    private readonly markerKey: Buffer,
    private readonly seal: (unit: MarkedBatchUnit) => number,
    private readonly send: (unit: MarkedBatchUnit, seq: number) => void,
  ) {}

  get open(): boolean {
    return this.unit !== null;
  }

  /**
   * One command (SELECT included) at stream db `dbBefore`; `offsetAfter` -1 inside a source transaction (the
   * batch offset moves only at its end). `dbAfter` is the stream db once it ran.
   */
  add(dbBefore: number, args: Buffer[], pending: PendingReply, offsetAfter: number, dbAfter: number): void {
    const unit = (this.unit ??= {
      startDb: dbBefore,
      commands: [],
      pendings: [],
      offset: -1,
      endDb: dbBefore,
      complete: false,
    });
    unit.commands.push(args);
    unit.pendings.push(pending);
    if (offsetAfter >= 0) unit.offset = offsetAfter;
    unit.complete = offsetAfter >= 0;
    unit.endDb = dbAfter;
    this.bytes += pending.bytes;
    // Full, but never in the middle of a source transaction: its commands and its offset go in one batch.
    if (!this.out && unit.complete && (unit.commands.length >= MAX_COMMANDS || this.bytes >= MAX_BYTES)) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /**
   * Seals the open batch (if it reached an offset and does not end inside a source transaction) behind those before
   * it, and sends the next one when none is out.
   * Call before anything else takes a place in the stream's order (a barrier, a RESTORE).
   */
  flush(): void {
    const unit = this.unit;
    if (unit && unit.offset >= 0 && unit.complete) {
      this.unit = null;
      this.bytes = 0;
      const marker = formatAppliedMarker({ replid: this.replid, offset: unit.offset, db: unit.endDb });
      const internal = (name: string): PendingReply => ({ seq: INTERNAL, name, key: null, bytes: 0 });
      unit.commands.push([b('SELECT'), b('0')], [b('SET'), this.markerKey, b(marker)]);
      unit.pendings.push(internal('SELECT'), internal('SET'));
      unit.commands.push([b('SELECT'), b(String(unit.endDb))]);
      unit.pendings.push(internal('SELECT'));
      this.sealed.push({ unit, seq: this.seal(unit) });
    }
    this.sendNext();
  }

  /** The batch that was out is confirmed (its EXEC succeeded): the next may go. */
  confirmed(): void {
    this.out = false;
    this.sendNext();
    if (!this.out && this.unit) this.flush();
  }

  /** Forgets unsent batches (the link ended: the session resumes from the marker or checkpoint). */
  drop(): void {
    this.unit = null;
    this.bytes = 0;
    this.sealed.length = 0;
  }

  private sendNext(): void {
    if (this.out) return;
    const next = this.sealed.shift();
    if (!next) return;
    this.out = true;
    this.send(next.unit, next.seq);
  }
}
