import { INTERNAL, NO_ENTRY, type PendingReply } from './transport.js';

const b = (text: string): Buffer => Buffer.from(text);

/** Batch size limits: a batch is sealed at once when it reaches one of them (else at the end of the turn). */
export interface MarkedBatchLimits {
  /** @defaultValue 256 */
  maxCommands?: number;
  /** @defaultValue 1048576 (1 MiB) */
  maxBytes?: number;
}

const DEFAULT_MAX_COMMANDS = 256;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** One batch: the stream's commands, then the marker saying how far the stream got. */
export interface MarkedBatchUnit {
  /** db the stream is in before the batch's first command */
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
  /**
   * true: one script call, conditional on the previous batch's marker (several may be in flight); false: MULTI …
   * EXEC, sent only once every batch before it is confirmed (a command a script cannot run, or a target without
   * scripts)
   */
  script: boolean;
  /** set when sealed: the marker this batch sets, and the one the batch before it set (null: none before) */
  marker: string;
  expectedMarker: string | null;
  /** stream commands counted in the writer's window, and their bytes */
  counted: number;
  countedBytes: number;
}

/** What the marker key holds: the replication position the target's data reflects. */
export interface AppliedMarker {
  replid: string;
  offset: number;
  /** the stream's (source) db at that offset */
  db: number;
  /**
   * true when a command of the batch that set it was refused by the target while running (the target differs
   * from the source; no later batch applied)
   */
  refused: boolean;
}

export function formatAppliedMarker(marker: Omit<AppliedMarker, 'refused'>): string {
  return `${marker.replid} ${marker.offset} ${marker.db}`;
}

/** @returns null for a value that is not a marker */
export function parseAppliedMarker(text: string | null): AppliedMarker | null {
  const match = /^([0-9a-f]{40}) (\d+) (\d+)( !)?$/.exec(text ?? '');
  return match
    ? { replid: match[1], offset: Number(match[2]), db: Number(match[3]), refused: match[4] !== undefined }
    : null;
}

/**
 * Exactly-once for a standalone target: the stream's commands are gathered (within one event-loop turn, up to
 * `maxCommands` or `maxBytes`) into batches that each also set `<markerKey>` (db 0) to `"<replid> <offset> <db>"`.
 * The target applies a batch and its marker together or not at all, so after a crash the marker says exactly which
 * source offset the data reflects, and the shard resumes there.
 *
 * Script batches (see batch-script.ts) are pipelined: each runs only if the marker holds what the batch before it
 * set, so when one is refused (OOM, NOPERM, a fence) or lost, every later one is refused too. A MULTI … EXEC batch
 * cannot check the marker, so it goes out only when no batch is in flight (the previous ones are confirmed), and
 * later script batches chain on the marker it sets. A source transaction always goes into one batch whole.
 */
export class MarkedBatch {
  /** the replication id the current stream belongs to (set on FULLRESYNC / +CONTINUE) */
  replid = '';
  /** the target runs the batch script (set once it loaded it); false: every batch is MULTI … EXEC, one at a time */
  scripts = false;
  private unit: MarkedBatchUnit | null = null;
  private bytes = 0;
  private scheduled = false;
  /** sealed batches (with their tracker entry) waiting for their turn */
  private readonly sealed: Array<{ unit: MarkedBatchUnit; seq: number }> = [];
  private outCount = 0;
  private maxOut = 0;
  private lastMarker: string | null = null;
  private readonly maxCommands: number;
  private readonly maxBytes: number;

  /**
   * @param seal registers a sealed batch's end offset (the writer's tracker entry), in stream order; returns its seq
   * @param send puts one sealed batch on the wire; the writer calls {@link confirmed} when it succeeded
   */
  constructor(
    private readonly markerKey: Buffer,
    private readonly seal: (unit: MarkedBatchUnit) => number,
    private readonly send: (unit: MarkedBatchUnit, seq: number) => void,
    limits: MarkedBatchLimits = {},
  ) {
    this.maxCommands = limits.maxCommands ?? DEFAULT_MAX_COMMANDS;
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  get open(): boolean {
    return this.unit !== null;
  }

  /** batches sent and not yet confirmed, now and at most so far */
  get inFlight(): { now: number; most: number } {
    return { now: this.outCount, most: this.maxOut };
  }

  /**
   * One command (SELECT included) at stream db `dbBefore`; `offsetAfter` -1 inside a source transaction (the
   * batch offset moves only at its end). `dbAfter` is the stream db once it ran. `inScript` false: a command the
   * batch script cannot run (see runsInScript): its batch is a MULTI … EXEC of its own.
   */
  add(
    dbBefore: number,
    args: Buffer[],
    pending: PendingReply,
    offsetAfter: number,
    dbAfter: number,
    inScript = true,
  ): void {
    if (!inScript && this.unit?.script && this.unit.complete && this.unit.offset >= 0) this.flush();
    const unit = (this.unit ??= {
      startDb: dbBefore,
      commands: [],
      pendings: [],
      offset: -1,
      endDb: dbBefore,
      complete: false,
      script: this.scripts,
      marker: '',
      expectedMarker: null,
      counted: 0,
      countedBytes: 0,
    });
    if (!inScript) unit.script = false;
    unit.commands.push(args);
    unit.pendings.push(pending);
    if (pending.seq === NO_ENTRY) {
      unit.counted++;
      unit.countedBytes += pending.bytes;
    }
    if (offsetAfter >= 0) unit.offset = offsetAfter;
    unit.complete = offsetAfter >= 0;
    unit.endDb = dbAfter;
    this.bytes += pending.bytes;
    // Never in the middle of a source transaction: its commands and its offset go in one batch.
    if (unit.complete) {
      const full = unit.commands.length >= this.maxCommands || this.bytes >= this.maxBytes;
      // A script batch goes when full; a MULTI … EXEC of a command scripts cannot run goes alone; without scripts,
      // a batch grows while one is out (group commit: it waits for that one anyway).
      if (unit.script ? full : this.scripts || (full && this.outCount === 0)) {
        this.flush();
        return;
      }
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
   * it, and sends what may go.
   * Call before anything else takes a place in the stream's order (a barrier, a RESTORE).
   */
  flush(): void {
    const unit = this.unit;
    if (unit && unit.offset >= 0 && unit.complete) {
      this.unit = null;
      this.bytes = 0;
      unit.marker = formatAppliedMarker({ replid: this.replid, offset: unit.offset, db: unit.endDb });
      unit.expectedMarker = this.lastMarker;
      this.lastMarker = unit.marker;
      if (!unit.script) {
        const internal = (name: string): PendingReply => ({ seq: INTERNAL, name, key: null, bytes: 0 });
        unit.commands.push([b('SELECT'), b('0')], [b('SET'), this.markerKey, b(unit.marker)]);
        unit.pendings.push(internal('SELECT'), internal('SET'));
        unit.commands.push([b('SELECT'), b(String(unit.endDb))]);
        unit.pendings.push(internal('SELECT'));
      }
      this.sealed.push({ unit, seq: this.seal(unit) });
    }
    this.sendNext();
  }

  /** A batch that was out is confirmed: what waited for it may go. */
  confirmed(): void {
    if (this.outCount > 0) this.outCount--;
    this.sendNext();
    if (this.outCount === 0 && this.unit) this.flush();
  }

  /** Forgets unsent batches (the link ended: the session resumes from the marker or checkpoint). */
  drop(): void {
    this.unit = null;
    this.bytes = 0;
    this.sealed.length = 0;
  }

  private sendNext(): void {
    while (this.sealed.length > 0) {
      const next = this.sealed[0];
      // A MULTI … EXEC cannot check the marker: only once everything before it is confirmed.
      if (this.outCount > 0 && !next.unit.script) return;
      this.sealed.shift();
      this.outCount++;
      if (this.outCount > this.maxOut) this.maxOut = this.outCount;
      this.send(next.unit, next.seq);
    }
  }
}
