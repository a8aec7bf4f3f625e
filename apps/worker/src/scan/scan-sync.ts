import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ScanCounters } from '@shardbridge/plan';
import { TargetWriter } from '@shardbridge/target';
import {
  initialProgress,
  lastErrorOf,
  phaseChangeAllowed,
  reconnectDelayMs,
  type ShardPhase,
  type ShardProgress,
} from '../shard-progress.js';
import { errorCode, isTransient, ShardSyncError } from '../sync-errors.js';
import { SourceEndpoint } from '../source/source-endpoint.js';
import type { SourceLocator } from '../source/source-locator.js';
import { DirtyKeys } from './dirty-keys.js';
import { KeyCopier, type CopyReason } from './key-copier.js';
import { KeyspaceSubscriber } from './keyspace-subscriber.js';
import type { NotifyFlavour } from './notify-config.js';
import { prepareNotifications } from './notify-setup.js';
import { SourceReader } from './source-reader.js';
import { TargetKeys } from './target-keys.js';
import type { ScanSyncOptions } from './scan-sync-options.js';

export type { ScanSyncOptions } from './scan-sync-options.js';

const FUNCTION = Buffer.from('FUNCTION');
const RESTORE = Buffer.from('RESTORE');
const REPLACE = Buffer.from('REPLACE');

/** Thrown into a session when `stop()` ends it on purpose. */
class SessionStopped extends Error {}

/**
 * Scan mode of one shard, for sources that forbid PSYNC/REPLCONF (managed services): subscribe to keyspace
 * notifications of the node, SCAN it (every db) copying each key with DUMP/PTTL → RESTORE, then keep re-reading
 * the keys notifications name. Same outward contract as ShardSync (`run`, `stop`, `progress`, `onProgress`).
 *
 * Why nothing is missed (and the limits, see README "Scan mode"): the subscription is confirmed before the first
 * SCAN, so every change during or after the scan is notified; a key is re-read after its notification arrived,
 * so the read sees that change or a later one; a key changed again while its re-read is in flight is queued
 * again. A lost notification connection (pub/sub has no backlog) or an overflowing dirty set forces a re-scan.
 * There is no offset to checkpoint: a restart re-scans from the beginning.
 */
export class ScanSync {
  private readonly progressState: ShardProgress & { scan: ScanCounters };
  private readonly logger: Logger;
  private readonly source: SourceEndpoint;
  private readonly dirty: DirtyKeys;
  private stopRequested = false;
  private readonly stopping = new AbortController();
  private endSession: ((error: Error) => void) | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private writer: TargetWriter | null = null;
  private reader: SourceReader | null = null;
  private subscriber: KeyspaceSubscriber | null = null;
  private copier: KeyCopier | null = null;
  private readonly probe: { onSeen: ((key: Buffer, flavour: NotifyFlavour) => void) | null } = {
    onSeen: null,
  };
  private rescanRequested = false;
  private wakeScanner: (() => void) | null = null;
  private waitingForRoom: (() => void) | null = null;
  private scanPasses = 0;
  private linkedOnce = false;
  private relocateBeforeLink = true;

  constructor(private readonly options: ScanSyncOptions) {
    this.progressState = {
      ...initialProgress(options.shardId),
      scan: {
        phase: 'scan',
        keysScanned: 0,
        keysReread: 0,
        keysDeleted: 0,
        staleKeysDeleted: 0,
        notifications: 0,
        rescans: 0,
        dirtyKeys: 0,
      },
    };
    this.logger = options.logger.child({ shard: options.shardId, mode: 'scan' });
    this.dirty = new DirtyKeys(options.maxDirtyKeys ?? 100_000);
    this.source = new SourceEndpoint({
      shardId: options.shardId,
      source: options.source,
      sourceNode: options.sourceNode,
      rttIntervalMs: options.rttIntervalMs ?? 5000,
      onRtt: (rttMs) => {
        this.progressState.rttMs = rttMs;
      },
    });
    this.progressState.sourceNode = this.source.describe();
  }

  get progress(): ShardProgress {
    const p = this.progressState;
    p.scan.dirtyKeys = this.dirty.size;
    return {
      ...p,
      lastError: p.lastError && { ...p.lastError },
      lastDisconnect: p.lastDisconnect && { ...p.lastDisconnect },
      sourceNode: p.sourceNode && { ...p.sourceNode },
      scan: { ...p.scan },
    };
  }

  /** Runs until `stop()` (resolves) or a non-transient error (rejects with a ShardSyncError naming the shard). */
  async run(): Promise<void> {
    this.progressTimer = setInterval(() => this.reportProgress(), this.options.progressIntervalMs ?? 1000);
    this.progressTimer.unref();
    this.source.startRttProbe();
    let attempts = 0;
    try {
      while (!this.stopRequested) {
        try {
          await this.runSession(() => {
            this.linkedOnce = true;
            attempts = 0;
          });
        } catch (error) {
          if (error instanceof SessionStopped || this.stopRequested) break;
          const hadLink = this.linkedOnce;
          await this.teardown(false);
          this.recordError(error);
          if (hadLink) {
            const { code, message } = this.progressState.lastError!;
            this.progressState.lastDisconnect = { at: Date.now(), code, message };
          }
          const maxAttempts = this.options.maxReconnectAttempts ?? 10;
          if (!this.linkedOnce || !isScanTransient(error) || attempts >= maxAttempts) throw error;
          attempts += 1;
          this.progressState.reconnects += 1;
          this.relocateBeforeLink = true;
          const delay = reconnectDelayMs(attempts, this.options.reconnectBaseDelayMs ?? 500);
          this.logger.warn(
            { code: errorCode(error), attempt: attempts, delayMs: delay },
            `link lost (${(error as Error).message}); reconnecting, then resubscribing and re-scanning`,
          );
          this.setPhase('connecting');
          await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        }
      }
      await this.teardown(true);
      this.setPhase('stopped');
    } catch (error) {
      await this.teardown(false);
      this.setPhase('failed');
      throw error instanceof ShardSyncError ? error : new ShardSyncError(this.options.shardId, error);
    } finally {
      await this.source.stopRttProbe();
      if (this.progressTimer) clearInterval(this.progressTimer);
      this.progressTimer = null;
      this.reportProgress();
    }
  }

  /** Graceful stop: stop reading, let the target confirm what it was given, close. Nothing to checkpoint. */
  async stop(): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.stopping.abort();
    this.setPhase('stopping');
    this.endSession?.(new SessionStopped('stopped'));
  }

  /** One session: connect, subscribe, scan, follow notifications. Never resolves; rejects when it ends. */
  private async runSession(onLinked: () => void): Promise<void> {
    this.setPhase('connecting');
    if (this.relocateBeforeLink && this.options.locator) await this.relocate(this.options.locator);
    this.relocateBeforeLink = false;
    let end!: (error: Error) => void;
    const ended = new Promise<never>((_resolve, reject) => {
      end = reject;
    });
    ended.catch(() => undefined);
    let settled = false;
    this.endSession = (error) => {
      if (settled) return;
      settled = true;
      this.endSession = null;
      this.wakeScanner?.();
      this.waitingForRoom?.();
      end(error);
    };
    const fail = (error: Error) => this.endSession?.(error);
    if (this.stopRequested) fail(new SessionStopped('stopped'));
    const work = (async () => {
      const link = this.source.linkOptions;
      // A connection that opens after the session ended (stop() or a loss while connecting) is past the teardown
      // that already ran: close it here instead of leaking it.
      const writer = await TargetWriter.connect(this.options.target);
      if (settled) return void (await writer.close());
      this.writer = writer;
      writer.on('error', fail);
      const reader = await SourceReader.open(link, fail);
      if (settled) return reader.close();
      this.reader = reader;
      const subscriber = await KeyspaceSubscriber.open(
        link,
        (db, key, flavour) => this.onNotified(db, key, flavour),
        fail,
      );
      if (settled) return subscriber.close();
      this.subscriber = subscriber;
      this.dirty.clear();
      await prepareNotifications(
        this.reader,
        this.subscriber,
        {
          configureSource: this.options.configureSource ?? false,
          slots: this.options.slots ?? [[0, 16383]],
          shardId: this.options.shardId,
          probeTimeoutMs: this.options.probeTimeoutMs ?? 5000,
          logger: this.logger,
        },
        this.probe,
      );
      if (settled) return;
      this.copier = new KeyCopier(
        this.reader,
        this.writer,
        {
          onCopied: (outcome, reason) => this.onCopied(outcome, reason),
          onError: fail,
          onRoom: () => this.onRoom(),
        },
        this.options.maxReadsInFlight ?? 128,
      );
      onLinked();
      this.pumpDirty(); // keys notified during the setup (the probe's among them)
      // Every pass must start after the subscription: a pass that starts clears the request, so a request made
      // during it (overflow) runs another one.
      this.rescanRequested = true;
      for (;;) {
        while (this.rescanRequested && !settled) {
          this.rescanRequested = false;
          await this.scanPass(() => settled);
        }
        if (settled) return;
        await new Promise<void>((resolve) => (this.wakeScanner = resolve));
        this.wakeScanner = null;
      }
    })();
    work.catch(fail);
    await Promise.race([ended, work]);
    await ended;
  }

  /** One SCAN of every db holding keys (copying each key), then live mode. */
  private async scanPass(ended: () => boolean): Promise<void> {
    const reader = this.reader!;
    const copier = this.copier!;
    this.scanPasses += 1;
    if (this.scanPasses > 1) this.progressState.scan.rescans += 1;
    this.progressState.scan.phase = 'scan';
    this.setPhase('full-sync');
    this.logger.info(
      { pass: this.scanPasses },
      this.scanPasses > 1 ? 're-scanning the source node' : 'scanning the source node',
    );
    await this.copyFunctions();
    const count = this.options.scanCount ?? 500;
    for (const db of await reader.keyspaceDbs()) {
      let cursor = '0';
      do {
        await this.roomForCopies();
        if (ended()) return;
        const step = await reader.scan(db, cursor, count);
        for (const key of step.keys) copier.copy(db, key, 'scan');
        cursor = step.cursor;
        this.pumpDirty();
      } while (cursor !== '0');
    }
    if (this.options.reconcileTarget ?? true) await this.reconcileTarget(ended);
    await copier.idle();
    if (ended()) return;
    await this.writer!.flush();
    if (ended() || this.rescanRequested) return;
    this.progressState.scan.phase = 'live';
    this.setPhase('incremental');
    this.logger.info(
      { keysScanned: this.progressState.scan.keysScanned, dirtyKeys: this.dirty.size },
      'scan pass done; following keyspace notifications',
    );
  }

  /** Deletes from the target the keys of this shard the source no longer holds (see `reconcileTarget`). */
  private async reconcileTarget(ended: () => boolean): Promise<void> {
    const copier = this.copier!;
    // A read-only listing on its own connections; its loss ends the session like any other (transient).
    const listing = await TargetKeys.open(this.options.target, this.options.slots ?? [[0, 16383]], (error) =>
      this.endSession?.(error),
    );
    const before = this.progressState.scan.staleKeysDeleted;
    try {
      for await (const batch of listing.batches(this.options.scanCount ?? 500)) {
        for (const key of batch.keys) copier.copy(batch.db, key, 'reconcile');
        this.pumpDirty();
        await this.roomForCopies();
        if (ended()) return;
      }
      await copier.idle();
    } finally {
      listing.close();
    }
    const deleted = this.progressState.scan.staleKeysDeleted - before;
    if (deleted > 0) this.logger.warn({ deleted }, 'deleted target keys the source no longer holds');
  }

  /** Libraries (FUNCTION DUMP → FUNCTION RESTORE REPLACE): no notification covers them, so each pass copies them. */
  private async copyFunctions(): Promise<void> {
    const payload = await this.reader!.functionDump();
    if (!payload || payload.length === 0) return;
    this.writer!.applyCommand([FUNCTION, RESTORE, payload, REPLACE], -1);
  }

  private onNotified(db: number, key: Buffer, flavour: NotifyFlavour): void {
    this.progressState.scan.notifications += 1;
    this.probe.onSeen?.(key, flavour);
    if (!this.dirty.add(db, key)) {
      this.logger.warn(
        { maxDirtyKeys: this.options.maxDirtyKeys ?? 100_000 },
        'more changed keys wait for a re-read than allowed: dropping them and re-scanning the node',
      );
      this.requestRescan();
      return;
    }
    this.pumpDirty();
  }

  private requestRescan(): void {
    this.rescanRequested = true;
    this.wakeScanner?.();
  }

  /** Hands waiting keys to the copier while it has room. */
  private pumpDirty(): void {
    const copier = this.copier;
    if (!copier) return;
    while (copier.hasRoom) {
      const next = this.dirty.take();
      if (!next) return;
      copier.copy(next.db, next.key, 'reread');
    }
  }

  private onRoom(): void {
    this.pumpDirty();
    // The scanner goes on only while re-reads leave room: live changes first, the rest of the pass after.
    if (this.copier?.hasRoom) this.waitingForRoom?.();
  }

  private roomForCopies(): Promise<void> {
    if (this.copier?.hasRoom !== false) return Promise.resolve();
    return new Promise((resolve) => {
      this.waitingForRoom = () => {
        this.waitingForRoom = null;
        resolve();
      };
    });
  }

  private onCopied(outcome: 'restored' | 'deleted' | 'kept', reason: CopyReason): void {
    const counters = this.progressState.scan;
    if (reason === 'reconcile') {
      if (outcome === 'deleted') {
        counters.staleKeysDeleted += 1;
        this.progressState.commandsApplied += 1;
      }
      return;
    }
    if (reason === 'scan') counters.keysScanned += 1;
    else counters.keysReread += 1;
    if (outcome === 'deleted') {
      counters.keysDeleted += 1;
      this.progressState.commandsApplied += 1;
    } else {
      this.progressState.keysWritten += 1;
    }
  }

  /** Closes the session's connections; `graceful`: first let the target confirm what it was given. */
  private async teardown(graceful: boolean): Promise<void> {
    this.copier?.detach();
    this.copier = null;
    this.subscriber?.close();
    this.subscriber = null;
    this.reader?.close();
    this.reader = null;
    const writer = this.writer;
    this.writer = null;
    if (writer) {
      await writer.flush().catch((error: Error) => {
        if (graceful) this.recordError(error);
      });
      await writer.close().catch(() => undefined);
    }
    this.dirty.clear();
    if (graceful) {
      this.logger.info(
        { scan: this.progress.scan },
        'stopped (scan mode keeps no checkpoint: a restart re-scans)',
      );
    }
  }

  private async relocate(locator: SourceLocator): Promise<void> {
    try {
      const left = await this.source.relocate(locator);
      if (!left) return;
      this.progressState.sourceNode = this.source.describe();
      if (this.linkedOnce) this.progressState.sourceFailovers += 1;
      this.logger.warn(
        { from: left, to: this.progressState.sourceNode },
        'source moved: scanning the new node',
      );
    } catch (error) {
      if (this.linkedOnce || locator.readFrom === 'replica') throw error;
      this.logger.warn(
        { code: errorCode(error) },
        `could not confirm the source node: ${(error as Error).message}`,
      );
    }
  }

  private recordError(error: unknown): void {
    this.progressState.lastError = lastErrorOf(error, errorCode(error));
  }

  private setPhase(phase: ShardPhase): void {
    if (!phaseChangeAllowed(this.progressState.phase, phase)) return;
    this.progressState.phase = phase;
    this.reportProgress();
  }

  private reportProgress(): void {
    this.options.onProgress?.(this.progress);
  }
}

/** A lost source link (notifications may be lost: reconnect and re-scan) or what replication retries too. */
function isScanTransient(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'SCAN_SOURCE_LOST' || code === 'SCAN_TARGET_LOST' || isTransient(error);
}
