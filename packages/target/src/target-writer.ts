import { EventEmitter } from 'node:events';
import { AckTracker } from './ack-tracker.js';
import { runsInScript } from './batch-script.js';
import { ClusterConnection } from './cluster-connection.js';
import { ALWAYS_SKIPPED, classifyCommand, commandName, firstKey } from './command-classification.js';
import { TargetClosedError, TargetConnectError, TargetError, TargetWriteError } from './errors.js';
import { FlowWindow, type FlowWindowState } from './flow-window.js';
import { asTargetRestore } from './migration-restore.js';
import { MarkedBatch } from './marked-batch.js';
import { BATCH_CALL, BATCH_EXEC, MarkedBatchSender } from './marked-batch-sender.js';
import { StandaloneConnection } from './standalone-connection.js';
import { INTERNAL, NO_ENTRY, type PendingReply, type Transport } from './transport.js';
import type { RestoreRecord, TargetWriterOptions } from './types.js';

/** Events of a {@link TargetWriter}. */
export interface TargetWriterEvents {
  /** the acknowledged offset advanced (coalesced: at most once per tick, with the latest value) */
  ack: [offset: number];
  /** the in-flight window has room again after a write returned false */
  drain: [];
  /** fatal; emitted once. Without a listener Node throws it, like any 'error' event. */
  error: [error: TargetError];
}

/** Commands per script batch: measured at 80 ms round trip and on loopback (see README Performance). */
const SCRIPT_BATCH_COMMANDS = 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_REPLY_TIMEOUT_MS = 60_000;

interface OpenTransaction {
  /** stream db when MULTI was seen */
  db: number;
  commands: Buffer[][];
  pendings: PendingReply[];
}

/**
 * Writes a shard's data into the target: RESTOREs of a full sync, then the replicated command stream, pipelined
 * and in source order, and reports the acknowledged offset — the offset of the last source byte whose effects
 * the target has confirmed. That offset is what a checkpoint may store.
 *
 * Window: commands and bytes in flight are bounded by a {@link FlowWindow} that grows to the link's
 * bandwidth-delay product (within `maxInFlight` / `maxInFlightBytes`) and shrinks when the target slows down; a
 * write returns false when it is full, and `'drain'` follows once replies made room.
 *
 * Failure model: the first error reply or link loss is fatal. The writer stops acknowledging beyond the last
 * confirmed write, emits `'error'` once, rejects `flush()`, and throws that error from later writes.
 * Unconfirmed commands are never re-sent: the session resumes from the checkpoint instead. Commands pipelined
 * behind a failed one may still have been applied by the target; resuming re-applies them (at-least-once).
 *
 * Transactions: on a standalone target, `MULTI ... EXEC` of the source is buffered and sent as one unit once
 * EXEC arrives, so it runs atomically as on the source. On a cluster target the commands inside are sent one by
 * one in order (their keys may live on different nodes), so a transaction is NOT atomic there. Either way no
 * offset inside a transaction is ever acknowledged, so a resume never starts in the middle of one.
 */
export class TargetWriter extends EventEmitter<TargetWriterEvents> {
  readonly label: string;
  private readonly window: FlowWindow;
  /** the write whose reply ends the window's current round trip sample; null = none out */
  private probe: PendingReply | null = null;
  private inFlightBytes = 0;
  private readonly skipped: ReadonlySet<string>;
  private readonly tracker = new AckTracker();
  private inFlightCount = 0;
  private needDrain = false;
  private streamDb = 0;
  /** standalone: the buffered transaction; null outside one */
  private transaction: OpenTransaction | null = null;
  /** cluster: inside MULTI ... EXEC (commands go out one by one without offsets) */
  private inUnbufferedTransaction = false;
  private failure: TargetError | null = null;
  private closed = false;
  private ackScheduled = false;
  private flushWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private restored = 0;
  private skippedExisting = 0;
  private applied = 0;
  private readonly replyTimeoutMs: number;
  /** when the last reply arrived, or when the window last went from empty to non-empty */
  private lastProgressAt = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  /** exactly-once mode (standalone target): stream commands go out in marked batches */
  private readonly batch: MarkedBatch | null;
  private readonly batchSender: MarkedBatchSender | null;

  private constructor(
    private readonly transport: Transport,
    options: TargetWriterOptions,
  ) {
    super();
    this.label = transport.label;
    this.window = new FlowWindow({
      maxCommands: options.maxInFlight,
      maxBytes: options.maxInFlightBytes,
      adaptive: options.adaptiveWindow,
    });
    this.skipped = new Set([...ALWAYS_SKIPPED, ...(options.skipCommands ?? []).map((n) => n.toUpperCase())]);
    transport.events = {
      onReply: (pending, error) => this.onReply(pending, error),
      onLost: (error) => this.fail(error),
    };
    const markerKey = options.appliedMarkerKey;
    const exactlyOnce = markerKey !== undefined && transport.transaction !== undefined;
    this.batchSender = exactlyOnce
      ? new MarkedBatchSender(transport, markerKey, options.fenceEpoch, (pending) => {
          this.inFlightCount++;
          this.maybeProbe(pending);
        })
      : null;
    this.batch = exactlyOnce
      ? new MarkedBatch(
          Buffer.from(markerKey),
          (unit) => this.tracker.push(unit.offset, unit.endDb, false),
          (unit, seq) => {
            if (!this.failure && !this.closed) this.batchSender!.send(unit, seq);
          },
          { maxCommands: SCRIPT_BATCH_COMMANDS },
        )
      : null;
    this.replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    if (this.replyTimeoutMs > 0) {
      this.stallTimer = setInterval(() => this.checkStall(), Math.min(1000, this.replyTimeoutMs / 4));
      this.stallTimer.unref();
    }
  }

  /**
   * Connects (each seed in turn, each bounded by `connectTimeoutMs`), authenticates and checks PING; for a
   * cluster target also discovers the slot map and checks every slot is served.
   * @throws TargetError with code TARGET_CONNECT_FAILED or TARGET_AUTH_FAILED
   */
  static async connect(options: TargetWriterOptions): Promise<TargetWriter> {
    const first = options.seeds[0];
    const label = options.label ?? (first ? `${first.host}:${first.port}` : '(no seeds)');
    if (!first) throw new TargetConnectError(label, `target ${label}: no seed address given in the plan`);
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const transport: Transport =
      options.type === 'cluster'
        ? await ClusterConnection.open(options, label, connectTimeoutMs)
        : await StandaloneConnection.openFirstSeed(options, label, connectTimeoutMs);
    const writer = new TargetWriter(transport, options);
    // Exactly-once: several script batches in flight; a target that cannot run the script keeps MULTI … EXEC ones.
    if (writer.batch) {
      try {
        writer.batch.scripts = await writer.batchSender!.loadScript();
      } catch (error) {
        await writer.close();
        throw error;
      }
    }
    return writer;
  }

  /** exactly-once mode: whether batches are pipelined scripts, and the most batches that were in flight at once */
  get exactlyOnceBatches(): { pipelined: boolean; mostInFlight: number } | null {
    return this.batch ? { pipelined: this.batch.scripts, mostInFlight: this.batch.inFlight.most } : null;
  }

  /** the in-flight window now (commands, bytes), the bytes in flight, and what the window measured of the link */
  get flowWindow(): FlowWindowState {
    return this.window.state(this.inFlightBytes);
  }

  /** The replication id of the stream being written (exactly-once mode records it in the applied marker). */
  set streamReplid(replid: string) {
    if (this.batch) this.batch.replid = replid;
  }

  /** offset of the last source byte whose effects the target confirmed; -1 = none */
  get acknowledgedOffset(): number {
    return this.tracker.acknowledged;
  }

  /** the source db selected at {@link acknowledgedOffset}; store it with the checkpoint, pass it on resume */
  get acknowledgedDb(): number {
    return this.tracker.acknowledgedDb;
  }

  /** commands handed to the target and not yet answered */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** counters for metrics */
  get stats(): {
    restoredKeys: number;
    appliedCommands: number;
    redirections: number;
    skippedExistingKeys: number;
  } {
    return {
      restoredKeys: this.restored,
      skippedExistingKeys: this.skippedExisting,
      appliedCommands: this.applied,
      redirections: this.transport.redirections ?? 0,
    };
  }

  /** the fatal error, once the writer has failed (it is then unusable: connect a new one) */
  get failed(): TargetError | null {
    return this.failure;
  }

  /**
   * Declares where the source stream (re)starts: a checkpoint's offset and the source db selected there (a
   * partial resync does not repeat the SELECT, so the db must be stored with the checkpoint), or -1 before a
   * full resync. Writes still in flight from an earlier link keep their order but stop carrying offsets.
   * @throws TargetDbUnsupportedError for a db other than 0 on a cluster target
   */
  setAcknowledgedOffset(offset: number, db = 0): void {
    const dbError = this.transport.checkDb(db);
    if (dbError) throw dbError;
    // A transaction cut off by the end of the previous link never reached the target.
    this.transaction = null;
    this.inUnbufferedTransaction = false;
    this.tracker.rebase(offset, db);
    this.streamDb = db;
  }

  /**
   * `RESTORE key ttl payload [REPLACE] ABSTTL [IDLETIME|FREQ]` into `record.db` (see `record.replace`). The key carries no offset of its
   * own: use {@link barrier} after the RDB.
   * @returns false when the in-flight window is full: wait for `'drain'` before writing more
   * @throws the writer's fatal TargetError once it has failed or been closed
   */
  restoreKey(record: RestoreRecord): boolean {
    this.assertWritable();
    this.batch?.flush();
    const dbError = this.transport.checkDb(record.db);
    if (dbError) this.failNow(dbError);
    const seq = this.tracker.push(-1, this.streamDb, false);
    const bytes = record.key.length + record.payload.length;
    const pending: PendingReply = { seq, name: 'RESTORE', key: copyKey(record.key), bytes };
    this.maybeProbe(pending);
    this.transport.restore(record, pending);
    this.restored++;
    this.counted(1, bytes);
    return this.hasRoom();
  }

  /**
   * One command of the replication stream, in source order, forwarded exactly as the source sent it.
   * `offsetAfter` is the source offset just after the command's bytes.
   * @returns false when the in-flight window is full: wait for `'drain'` before writing more
   * @throws the writer's fatal TargetError once it has failed or been closed (or at once, for a SELECT of a db
   *   a cluster target does not have: TARGET_DB_UNSUPPORTED)
   */
  applyCommand(args: Buffer[], offsetAfter: number): boolean {
    this.assertWritable();
    const name = commandName(args);
    switch (classifyCommand(name, this.skipped)) {
      case 'skip':
        if (!this.inTransaction()) this.pushDone(offsetAfter);
        break;
      case 'select':
        this.select(args, offsetAfter);
        break;
      case 'multi':
        this.multi();
        break;
      case 'exec':
        this.exec(offsetAfter);
        break;
      case 'discard':
        // Redis never propagates a discarded transaction; honour one anyway where nothing was sent yet.
        this.transaction = null;
        this.inUnbufferedTransaction = false;
        this.pushDone(offsetAfter);
        break;
      case 'write':
        if (name === 'RESTORE-ASKING') this.write('RESTORE', asTargetRestore(name, args), offsetAfter);
        else this.write(name, args, offsetAfter);
        break;
    }
    return this.hasRoom();
  }

  /**
   * One command of the full-sync phase that writes a key in `db` (a key rebuilt with commands instead of RESTORE,
   * see KeyRewrite). Like {@link restoreKey} it carries no offset: use {@link barrier} after the RDB.
   * @returns false when the in-flight window is full: wait for `'drain'` before writing more
   * @throws the writer's fatal TargetError once it has failed or been closed
   */
  writeKeyCommand(db: number, args: Buffer[]): boolean {
    this.assertWritable();
    this.batch?.flush();
    const dbError = this.transport.checkDb(db);
    if (dbError) this.failNow(dbError);
    const name = commandName(args);
    const seq = this.tracker.push(-1, this.streamDb, false);
    const bytes = argumentBytes(args);
    const pending: PendingReply = { seq, name, key: copyKey(args[1] ?? null), bytes };
    this.maybeProbe(pending);
    this.transport.command(db, args, pending);
    this.counted(1, bytes);
    return this.hasRoom();
  }

  /** Every source byte up to `offset` has been handed over (e.g. the FULLRESYNC offset after the last key). */
  barrier(offset: number): void {
    this.assertWritable();
    this.pushDone(offset);
  }

  /** Resolves once every command handed over so far is confirmed; rejects with the fatal error. */
  flush(): Promise<void> {
    if (!this.failure && !this.closed) this.batch?.flush();
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new TargetClosedError(this.label));
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /** Closes the link(s) without waiting for replies (call {@link flush} first for that). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batch?.drop();
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.settleFlushWaiters(this.failure ?? new TargetClosedError(this.label));
    await this.transport.close();
  }

  private inTransaction(): boolean {
    return this.transaction !== null || this.inUnbufferedTransaction;
  }

  private select(args: Buffer[], offsetAfter: number): void {
    const text = args[1]?.toString('latin1') ?? '';
    const db = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(db)) {
      this.failNow(
        new TargetWriteError(this.label, `target ${this.label}: the source sent SELECT "${text}"`),
      );
    }
    const dbError = this.transport.checkDb(db);
    if (dbError) this.failNow(dbError);
    const dbBefore = this.streamDb;
    this.streamDb = db;
    if (this.transaction) {
      this.transaction.commands.push(args);
      this.transaction.pendings.push({ seq: NO_ENTRY, name: 'SELECT', key: null, bytes: 0 });
    } else if (this.batch) {
      this.batch.add(dbBefore, args, { seq: INTERNAL, name: 'SELECT', key: null, bytes: 0 }, offsetAfter, db);
    } else if (!this.inUnbufferedTransaction) {
      // Sent lazily by the connection before the next write that needs this db.
      this.pushDone(offsetAfter);
    }
  }

  private multi(): void {
    if (this.inTransaction()) {
      this.failNow(new TargetWriteError(this.label, `target ${this.label}: the source sent a nested MULTI`));
    }
    if (this.transport.transaction) this.transaction = { db: this.streamDb, commands: [], pendings: [] };
    else this.inUnbufferedTransaction = true;
  }

  private exec(offsetAfter: number): void {
    const tx = this.transaction;
    if (tx && this.batch) {
      // The batch is atomic already: the source's transaction goes into it whole.
      this.transaction = null;
      let db = tx.db;
      tx.commands.forEach((args, i) => {
        const last = i === tx.commands.length - 1;
        const dbBefore = db;
        const pending = tx.pendings[i];
        if (pending.name === 'SELECT') db = Number(args[1].toString('latin1'));
        const inScript = runsInScript(pending.name, args, pending.bytes);
        this.batch!.add(dbBefore, args, pending, last ? offsetAfter : -1, db, inScript);
      });
      if (tx.commands.length === 0) this.pushDone(offsetAfter);
      this.counted(tx.commands.length, pendingBytes(tx.pendings));
      this.applied += tx.commands.length;
    } else if (tx) {
      this.transaction = null;
      const seq = this.tracker.push(offsetAfter, this.streamDb, false);
      const exec: PendingReply = { seq, name: 'EXEC', key: null, bytes: 0 };
      this.maybeProbe(exec);
      this.transport.transaction!(tx.db, tx.commands, tx.pendings, exec);
      this.counted(tx.commands.length + 1, pendingBytes(tx.pendings));
      this.applied += tx.commands.length;
    } else if (this.inUnbufferedTransaction) {
      this.inUnbufferedTransaction = false;
      this.pushDone(offsetAfter);
    } else {
      this.failNow(
        new TargetWriteError(this.label, `target ${this.label}: the source sent EXEC without MULTI`),
      );
    }
  }

  private write(name: string, args: Buffer[], offsetAfter: number): void {
    const key = copyKey(firstKey(name, args));
    if (this.transaction) {
      this.transaction.commands.push(args);
      this.transaction.pendings.push({ seq: NO_ENTRY, name, key, bytes: argumentBytes(args) });
      return;
    }
    if (this.batch) {
      const bytes = argumentBytes(args);
      const pending: PendingReply = { seq: NO_ENTRY, name, key, bytes };
      this.batch.add(
        this.streamDb,
        args,
        pending,
        offsetAfter,
        this.streamDb,
        runsInScript(name, args, bytes),
      );
      this.counted(1, bytes);
      this.applied++;
      return;
    }
    const offset = this.inUnbufferedTransaction ? -1 : offsetAfter;
    const seq = this.tracker.push(offset, this.streamDb, false);
    const bytes = argumentBytes(args);
    const pending: PendingReply = { seq, name, key, bytes };
    this.maybeProbe(pending);
    this.transport.command(this.streamDb, args, pending);
    this.counted(1, bytes);
    this.applied++;
  }

  /** Commands (and their bytes) handed to the target now count in the window until their replies. */
  private counted(commands: number, bytes: number): void {
    if (this.inFlightCount === 0) this.lastProgressAt = Date.now();
    this.inFlightCount += commands;
    this.inFlightBytes += bytes;
  }

  private hasRoom(): boolean {
    if (this.window.hasRoom(this.inFlightCount, this.inFlightBytes)) return true;
    this.needDrain = true;
    return false;
  }

  /** The window samples one round trip at a time: the first write sent while none is out is the probe. */
  private maybeProbe(pending: PendingReply): void {
    if (this.probe === null && this.window.takeProbe(performance.now())) this.probe = pending;
  }

  private pushDone(offset: number): void {
    this.batch?.flush();
    const before = this.tracker.acknowledged;
    this.tracker.push(offset, this.streamDb, true);
    if (this.tracker.acknowledged !== before) this.scheduleAck();
  }

  private onReply(pending: PendingReply, error: TargetError | null): void {
    if (pending.seq >= NO_ENTRY) {
      const commands = pending.commands ?? 1;
      this.inFlightCount -= commands;
      this.inFlightBytes -= pending.bytes;
      this.window.confirmed(commands, pending.bytes);
    }
    if (pending === this.probe) {
      this.probe = null;
      this.window.probeAnswered(performance.now());
    }
    if (pending.name === BATCH_CALL) error = this.batchSender!.replied(error);
    this.lastProgressAt = Date.now();
    // Only a RESTORE without REPLACE can meet BUSYKEY: the target keeps its key, by the caller's choice.
    if (error?.code === 'TARGET_BUSYKEY' && pending.name === 'RESTORE') {
      this.skippedExisting++;
      error = null;
    }
    if (error) {
      this.fail(error);
      return;
    }
    // Completions after a failure still count: in a cluster they may belong to writes before the failed one.
    if (pending.seq >= 0 && this.tracker.complete(pending.seq)) this.scheduleAck();
    if (this.failure) return;
    if (pending.name === BATCH_EXEC || pending.name === BATCH_CALL) this.batch?.confirmed();
    if (this.needDrain && this.window.hasRoom(this.inFlightCount, this.inFlightBytes)) {
      this.needDrain = false;
      this.emit('drain');
    }
    if (this.inFlightCount === 0 && this.flushWaiters.length > 0) this.settleFlushWaiters(null);
  }

  private checkStall(): void {
    if (this.failure || this.closed || this.inFlightCount === 0) return;
    this.window.tick(performance.now());
    const silentMs = Date.now() - this.lastProgressAt;
    if (silentMs < this.replyTimeoutMs) return;
    this.fail(
      new TargetConnectError(
        this.label,
        `target ${this.label} answered nothing for ${silentMs} ms with ${this.inFlightCount} command(s) in ` +
          `flight: it may be paused, overloaded or unreachable — check it; the shard resumes from its checkpoint`,
      ),
    );
    // Its replies must not trickle in later: the session resumes from the checkpoint on a new link.
    void this.transport.close();
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    process.nextTick(() => {
      this.ackScheduled = false;
      this.emit('ack', this.tracker.acknowledged);
    });
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new TargetClosedError(this.label);
  }

  /** Records a fatal error found while handling a write call, and throws it to that caller too. */
  private failNow(error: TargetError): never {
    this.fail(error);
    throw error;
  }

  private fail(error: TargetError): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    this.settleFlushWaiters(error);
    process.nextTick(() => this.emit('error', error));
  }

  private settleFlushWaiters(error: Error | null): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }
}

/**
 * A key kept for error messages while its command is in flight: a copy, so that the source's read buffer the
 * key was sliced from is not held until the reply.
 */
function copyKey(key: Buffer | null): Buffer | null {
  return key === null ? null : Buffer.from(key);
}

function pendingBytes(pendings: readonly PendingReply[]): number {
  let bytes = 0;
  for (const pending of pendings) bytes += pending.bytes;
  return bytes;
}

function argumentBytes(args: readonly Buffer[]): number {
  let bytes = 0;
  for (let i = 0; i < args.length; i++) bytes += args[i].length;
  return bytes;
}
