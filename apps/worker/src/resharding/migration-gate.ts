import { isMigrationImport, type BarrierOutcome, type MigrationBarrier } from './migration-barrier.js';

/** What the gate drives: ShardSync's own apply path and its source flow control. */
export interface MigrationGateHooks {
  /** applies one command of the stream to the target; false when the target's window is now full */
  deliver(args: Buffer[], offsetAfter: number): void | boolean;
  /** stop / restart reading the source while too much is held */
  pauseSource(): void;
  resumeSource(): void;
  /** a barrier pass ended (counters, logs) */
  onOutcome(outcome: BarrierOutcome, keysCovered: number): void;
  /** the barrier failed for another reason than the abort of close(): the link should end */
  onError(error: Error): void;
}

export interface MigrationGateOptions {
  /**
   * Bytes of held commands above which the source is paused (the source's replica output buffer then takes the
   * rest); reading restarts below half of it.
   * @defaultValue 64 MiB
   */
  maxHeldBytes?: number;
}

interface Held {
  args: Buffer[];
  offsetAfter: number;
  seq: number;
  bytes: number;
  migration: boolean;
}

/**
 * Holds a shard's command stream, in order, behind a migration barrier. The first `RESTORE-ASKING` starts a
 * barrier pass; the stream keeps being read and queued behind it. When the pass ends, the queue is applied up to
 * the next `RESTORE-ASKING` that arrived after the pass read its goals — one new pass covers all of those at once.
 * So a reshard of many keys costs one wait per pass (about one checkpoint interval of the other shards), not one
 * per key. One gate per replication link: `close()` drops what is held (the link's checkpoint never included it).
 */
export class MigrationGate {
  private readonly held: Held[] = [];
  private heldBytes = 0;
  private received = 0;
  /** RESTORE-ASKINGs up to this sequence number were received before a pass read its goals */
  private coveredThrough = 0;
  private passing = false;
  private blockedOnTarget = false;
  private sourcePaused = false;
  private closed = false;
  private readonly aborter = new AbortController();

  constructor(
    private readonly barrier: MigrationBarrier,
    private readonly hooks: MigrationGateHooks,
    private readonly options: MigrationGateOptions = {},
  ) {}

  /** Commands held right now (for tests and progress). */
  get heldCount(): number {
    return this.held.length;
  }

  /**
   * Offers the next command of the stream. false: nothing is held and the command needs no barrier, the caller
   * applies it itself. true: the gate took it and applies it in order later.
   */
  offer(args: Buffer[], offsetAfter: number): boolean {
    if (this.closed) return false;
    const migration = isMigrationImport(args);
    if (!migration && this.held.length === 0 && !this.passing) return false;
    let bytes = 16;
    for (const arg of args) bytes += arg.length;
    this.held.push({ args, offsetAfter, seq: ++this.received, bytes, migration });
    this.heldBytes += bytes;
    if (!this.sourcePaused && this.heldBytes > (this.options.maxHeldBytes ?? 64 * 1024 * 1024)) {
      this.sourcePaused = true;
      this.hooks.pauseSource();
    }
    if (!this.passing && !this.blockedOnTarget) this.pump();
    return true;
  }

  /** The target has room again (its `'drain'`). */
  resume(): void {
    if (!this.blockedOnTarget) return;
    this.blockedOnTarget = false;
    if (!this.passing) this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.aborter.abort(new Error('link ended'));
    this.held.length = 0;
    this.heldBytes = 0;
  }

  private pump(): void {
    while (!this.closed && this.held.length > 0) {
      const next = this.held[0];
      if (next.migration && next.seq > this.coveredThrough) {
        this.startPass();
        return;
      }
      this.held.shift();
      this.heldBytes -= next.bytes;
      const room = this.hooks.deliver(next.args, next.offsetAfter);
      if (room === false) {
        this.blockedOnTarget = true;
        break;
      }
    }
    const maxHeld = this.options.maxHeldBytes ?? 64 * 1024 * 1024;
    if (this.sourcePaused && this.heldBytes <= maxHeld / 2) {
      this.sourcePaused = false;
      this.hooks.resumeSource();
    }
  }

  private startPass(): void {
    this.passing = true;
    // Goals are read after this call starts: every command received so far is covered by them.
    const covers = this.received;
    this.barrier.pass(this.aborter.signal).then(
      (outcome) => {
        if (this.closed) return;
        const keysCovered = this.held.filter((item) => item.migration && item.seq <= covers).length;
        this.passing = false;
        this.coveredThrough = covers;
        this.hooks.onOutcome(outcome, keysCovered);
        if (!this.blockedOnTarget) this.pump();
      },
      (error: Error) => {
        if (this.closed) return;
        this.passing = false;
        this.hooks.onError(error);
      },
    );
  }
}
