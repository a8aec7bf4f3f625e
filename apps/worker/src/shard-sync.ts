import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ReplicaClient } from '@shardbridge/replication';
import { TargetWriter } from '@shardbridge/target';
import type { MigrationGate } from './resharding/migration-gate.js';
import { ShardMigrations } from './resharding/shard-migrations.js';
import { SourceEndpoint } from './source/source-endpoint.js';
import { SourceFlow } from './source-flow.js';
import { ShardRateCap } from './rate-cap/shard-rate-cap.js';
import { StreamLag } from './lag/stream-lag.js';
import { outputBufferOf } from './rate-cap/output-buffer.js';
import type { SourceLocator } from './source/source-locator.js';
import { ShardFilter } from './filter/shard-filter.js';
import type { ShardSyncOptions } from './shard-sync-options.js';
export type { ShardSyncOptions, TargetKeyspaceReader } from './shard-sync-options.js';
import {
  initialProgress,
  lastErrorOf,
  phaseChangeAllowed,
  reconnectDelayMs,
  type ShardPhase,
  type ShardProgress,
  type ShardStopOutcome,
} from './shard-progress.js';
import { settleWithin, unlessAborted } from './shard-sync-stop.js';
import { RdbLoader } from './full-sync/rdb-loader.js';
import { readAppliedMarker } from './exactly-once/applied-marker.js';
import type { Checkpoint } from './checkpoint/checkpoint-store.js';
import { CheckpointSaver } from './checkpoint/checkpoint-saver.js';
import { replicaOutputBufferLimit, type ShardCaps, type ShardSyncPhase } from '@shardbridge/plan';
import { probeTargetCapabilities, type TargetCapabilities } from './rewrite/target-capabilities.js';
import {
  errorCode,
  isTransient,
  ShardSyncError,
  TargetModeUnsupportedError,
  TargetNotEmptyError,
} from './sync-errors.js';

const FLUSHALL = Buffer.from('FLUSHALL');

/** Commands a filter adds around the ones it forwards; not counted as applied. */
const FRAMING = new Set(['SELECT', 'MULTI', 'EXEC']);

/**
 * Before the shard ever streamed, only a link the source accepted and then lost mid-handshake (closed or reset: a
 * NAT gateway or load balancer dropping a new flow) is retried. A refused, unreachable or silent address and every
 * answer of the server (wrong password, NOAUTH, PSYNC refused, TLS) fail at once: retrying cannot fix them.
 */
function lostAfterAccept(error: unknown): boolean {
  return (
    errorCode(error) === 'REPL_CONNECTION_CLOSED' &&
    (error as { reachedServer?: unknown }).reachedServer === true
  );
}

/** Thrown into a link when `stop()` ends it on purpose. */
class LinkStopped extends Error {}

/**
 * Replicates one source node into the target: PSYNC, RDB → RESTORE, command stream → target, acknowledged offset →
 * checkpoint. Data flows one way; back-pressure flows back by pausing the source socket while the target's
 * in-flight window is full.
 *
 * Resume contract: the checkpoint is only ever the offset the target confirmed, so a restart re-sends at most the
 * commands that were in flight. A full resync clears the checkpoint before the first RESTORE, because from then on
 * the target no longer matches the old offset.
 */
export class ShardSync {
  private readonly progressState: ShardProgress;
  private readonly logger: Logger;
  private writer: TargetWriter | null = null;
  private client: ReplicaClient | null = null;
  private stopRequested = false;
  /** abort() ended the writes: nothing is flushed or checkpointed on the way out */
  private aborted = false;
  private endLink: ((error: Error) => void) | null = null;
  /** aborted by stop(), so a reconnect backoff (up to 30 s) does not delay a stop */
  private readonly stopping = new AbortController();
  private readonly checkpoints: CheckpointSaver;
  private progressTimer: NodeJS.Timeout | null = null;
  private acknowledgedDb = 0;
  /** the node replicated from; replaced when a failover is followed */
  private readonly source: SourceEndpoint;
  /** confirm (or find) the node to dial before each link: set before the first and after a lost one */
  private relocateBeforeLink = true;
  private linkedOnce = false;
  /** the target's version facts, asked once before the first full sync (null: unknown, RESTORE is used) */
  private targetCapabilities: TargetCapabilities | null | undefined;
  /** the plan's filter; null = everything passes and the stream goes to the writer untouched */
  private readonly filter: ShardFilter | null;
  /** BUSYKEY skips of writers already closed */
  private skippedExistingBefore = 0;
  /** `fail-if-not-empty` looked at the target already (this process wrote nothing before that) */
  private targetChecked = false;
  /** `mode: 'full'` reached its end: the target confirmed the whole RDB */
  private completed = false;
  private readonly flow = new SourceFlow(() => this.client);
  /** the caps hold the source back through the flow, like a full target window */
  private readonly rateCap = new ShardRateCap({
    pause: () => this.flow.pause('rate'),
    resume: () => this.flow.resume('rate'),
  });
  private readonly lag = new StreamLag();
  /** the source's `client-output-buffer-limit replica` in bytes (null: unknown or none) */
  private outputBufferLimit: number | null = null;
  private readonly migrations: ShardMigrations | null;
  private gate: MigrationGate | null = null;
  private readonly stopTimeoutMs: number;
  private outcome: ShardStopOutcome | null = null;
  /** the phase stop() found the shard in (before 'stopping') */
  private phaseAtStop: ShardPhase | null = null;
  /** the checkpoint saver knows what the store holds (a link loaded it) */
  private checkpointKnown = false;

  constructor(private readonly options: ShardSyncOptions) {
    this.progressState = initialProgress(options.shardId);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.logger = options.logger.child({ shard: options.shardId });
    this.source = new SourceEndpoint({
      shardId: options.shardId,
      source: options.source,
      sourceNode: options.sourceNode,
      rttIntervalMs: options.rttIntervalMs ?? 5000,
      onRtt: (rttMs) => {
        this.progressState.rttMs = rttMs;
      },
      onSourceState: ({ masterReplOffset, outputBufferLimit }) => {
        if (masterReplOffset !== null) this.lag.sourceHead(masterReplOffset);
        this.outputBufferLimit =
          outputBufferLimit === null ? null : replicaOutputBufferLimit(outputBufferLimit);
      },
      // CONFIG GET is optional in the documented ACL: asked only while the shard has caps
      readOutputBufferLimit: () => this.rateCap.active,
    });
    if (options.rateCaps) this.rateCap.setCaps(options.rateCaps);
    this.progressState.sourceNode = this.source.describe();
    this.checkpoints = new CheckpointSaver({
      shardId: options.shardId,
      store: options.checkpoints,
      logger: this.logger,
      intervalMs: options.checkpointIntervalMs,
      position: () => ({
        replid: this.progressState.replid,
        offset: this.progressState.acknowledgedOffset,
        db: this.acknowledgedDb,
        phase: this.progressState.phase as ShardSyncPhase,
      }),
    });
    this.filter = options.filter ? new ShardFilter(options.filter) : null;
    Object.assign(this.progressState, {
      keysFiltered: 0,
      commandsFiltered: 0,
      keysSkippedExisting: 0,
      keysSkippedExpired: 0,
    });
    if (options.targetMode === 'flush-first' && options.wholeKeyspace === false) {
      throw new TargetModeUnsupportedError(
        `shard ${options.shardId}: targetMode "flush-first" needs a standalone source (this shard holds only some ` +
          'slots, and flushing would delete the other shards\' keys): flush the target yourself and use "replace"',
      );
    }
    this.migrations = options.migrationBarrier
      ? new ShardMigrations({
          barrier: options.migrationBarrier,
          beforeFirstRdb: options.barrierBeforeFirstRdb ?? false,
          logger: this.logger,
          counters: this.progressState,
        })
      : null;
  }

  /** What the last stop saved and what it did not; null until `run()` settled after `stop()`. */
  get stopOutcome(): ShardStopOutcome | null {
    return this.outcome && { ...this.outcome };
  }

  /** New caps for this shard from now on: the link, the window and the checkpoint are untouched. */
  setRateCaps(caps: ShardCaps): void {
    this.rateCap.setCaps(caps);
  }

  get progress(): ShardProgress {
    const p = this.progressState;
    const unread = this.lag.unreadBytes(p.sourceOffset);
    // 0 while nothing is acknowledged: formatters show it as unknown (acknowledgedOffset -1), never as "no lag".
    // Bytes the source produced and the worker has not read yet (on the wire, in its output buffer) are lag too.
    p.lagBytes =
      p.sourceOffset >= 0 && p.acknowledgedOffset >= 0
        ? p.sourceOffset - p.acknowledgedOffset + (unread ?? 0)
        : 0;
    p.lagMs = this.lag.ageMs(p.acknowledgedOffset, p.sourceOffset);
    p.rateCap = this.rateCap.state;
    p.outputBuffer = outputBufferOf(unread, this.outputBufferLimit);
    p.keysSkippedExisting = this.skippedExistingBefore + (this.writer?.stats.skippedExistingKeys ?? 0);
    if (this.filter) {
      p.keysFiltered = this.filter.keysFiltered;
      p.commandsFiltered = this.filter.commandsFiltered;
    }
    return {
      ...p,
      lastError: p.lastError && { ...p.lastError },
      lastDisconnect: p.lastDisconnect && { ...p.lastDisconnect },
      sourceNode: p.sourceNode && { ...p.sourceNode },
    };
  }

  /**
   * Runs until `stop()` (resolves) or a non-transient error (rejects with a ShardSyncError naming the shard).
   */
  async run(): Promise<void> {
    const intervalMs = this.options.progressIntervalMs ?? 1000;
    this.progressTimer = setInterval(() => this.reportProgress(), intervalMs);
    this.progressTimer.unref();
    this.source.startRttProbe();
    let attempts = 0;
    try {
      while (!this.stopRequested) {
        try {
          await this.runLink(() => {
            this.linkedOnce = true;
            attempts = 0;
          });
        } catch (error) {
          if (error instanceof LinkStopped || this.stopRequested) break;
          const hadLink = this.client !== null;
          await this.teardown();
          await settleWithin(this.checkpoints.save(true), this.stopTimeoutMs);
          this.recordError(error);
          if (hadLink) {
            const { code, message } = this.progressState.lastError!;
            this.progressState.lastDisconnect = { at: Date.now(), code, message };
          }
          const maxAttempts = this.options.maxReconnectAttempts ?? 10;
          const retryable = this.linkedOnce ? isTransient(error) : lostAfterAccept(error);
          if (!retryable || attempts >= maxAttempts) throw error;
          attempts += 1;
          this.progressState.reconnects += 1;
          this.relocateBeforeLink = true;
          const delay = reconnectDelayMs(attempts, this.options.reconnectBaseDelayMs ?? 500);
          this.logger.warn(
            { code: errorCode(error), attempt: attempts, delayMs: delay },
            `link lost (${(error as Error).message}); reconnecting`,
          );
          this.setPhase('connecting');
          await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        }
      }
      await this.finishGracefully();
      this.setPhase(this.completed ? 'completed' : 'stopped');
    } catch (error) {
      await this.teardown();
      this.setPhase('failed');
      throw error instanceof ShardSyncError ? error : new ShardSyncError(this.options.shardId, error);
    } finally {
      this.rateCap.dispose();
      await this.source.stopRttProbe();
      this.checkpoints.stop();
      if (this.progressTimer) clearInterval(this.progressTimer);
      this.progressTimer = null;
      this.reportProgress();
    }
  }

  /** Graceful stop: stop reading the source, let the target confirm what it has, checkpoint, close. */
  async stop(): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.phaseAtStop = this.progressState.phase;
    this.stopping.abort();
    this.setPhase('stopping');
    this.endLink?.(new LinkStopped('stopped'));
  }

  /**
   * The shard is no longer this process's (its job lock was lost, another worker may already run it): stop
   * writing at once. Writes not yet sent are dropped and the target link is closed; a graceful stop would send
   * them after the new owner read the target's position (exactly-once marker), applying them twice. No
   * checkpoint is saved (the job-lock fence would refuse it anyway).
   */
  async abort(): Promise<void> {
    this.aborted = true;
    const writer = this.writer;
    this.writer = null;
    void writer?.close();
    await this.stop();
  }

  /** One replication link: resolves never; rejects when the link ends for any reason (stop included). */
  private async runLink(onStreaming: () => void): Promise<void> {
    this.setPhase('connecting');
    if (this.relocateBeforeLink && this.options.locator) {
      try {
        await this.relocate(this.options.locator);
      } catch (error) {
        // Before the first link the planned address stands (its own connect error is the clearer one), unless
        // only a replica will do.
        if (this.linkedOnce || this.options.locator.readFrom === 'replica') throw error;
        this.logger.warn(
          { code: errorCode(error) },
          `could not confirm the source node: ${(error as Error).message}`,
        );
      }
    }
    this.relocateBeforeLink = false;
    const full = this.options.mode === 'full';
    // A one-shot full sync always starts from a fresh RDB: it never resumes a stream.
    // Each await before the link exists may hang on a Redis that does not answer: stop() interrupts it.
    const unlessStopped = <T>(step: Promise<T>) =>
      unlessAborted(step, this.stopping.signal, () => new LinkStopped('stopped'));
    const saved = full ? null : await unlessStopped(this.options.checkpoints.load(this.options.shardId));
    const checkpoint = saved && (await unlessStopped(this.withAppliedMarker(saved)));
    if (!checkpoint) await unlessStopped(this.checkTargetEmpty());
    if (this.targetCapabilities === undefined) {
      this.targetCapabilities =
        (this.options.rewrite ?? 'auto') === 'never'
          ? null
          : await unlessStopped(probeTargetCapabilities(this.options.target));
    }
    if (!this.writer) {
      const connecting = TargetWriter.connect(this.options.target);
      // A connection that opens after a stop is closed, not leaked.
      void connecting.then(
        (late) => {
          if (this.stopRequested && this.writer !== late) void late.close();
        },
        () => undefined,
      );
      this.writer = await unlessStopped(connecting);
      this.writer.on('ack', (offset: number) => this.onAcknowledged(offset));
      this.writer.on('drain', () => this.onDrain());
      this.writer.on('error', (error: Error) => this.recordError(error));
    }
    const writer = this.writer;
    if (checkpoint) {
      // The checkpoint's db is the source's; the writer is told the target db it maps to.
      const writerDb = this.filter ? this.filter.startStream(checkpoint.db) : checkpoint.db;
      writer.setAcknowledgedOffset(checkpoint.offset, writerDb);
      this.acknowledgedDb = checkpoint.db;
    }
    this.checkpoints.reset(checkpoint);
    this.checkpointKnown = true;

    const linkEnded = new AbortController();
    this.flow.reset();
    await new Promise<void>((_resolve, reject) => {
      let loader: RdbLoader | null = null;
      let fullSyncOffset = -1;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        loader?.dispose();
        this.endLink = null;
        reject(error);
      };
      this.endLink = fail;
      // stop() during the checkpoint load or the target connect found no link to end: end this one at once.
      if (this.stopRequested) return fail(new LinkStopped('stopped'));
      writer.once('error', fail);
      this.gate =
        this.migrations?.gate({
          deliver: (args, offsetAfter) => this.deliverCommand(args, offsetAfter),
          pauseSource: () => this.flow.pause('migration'),
          resumeSource: () => this.flow.resume('migration'),
          onError: (error) => fail(error),
        }) ?? null;

      const guard =
        <A extends unknown[]>(handler: (...args: A) => void) =>
        (...args: A) => {
          if (settled) return;
          try {
            handler(...args);
          } catch (error) {
            fail(error as Error);
          }
        };

      const client = new ReplicaClient(
        {
          ...this.source.linkOptions,
          resume: checkpoint ? { replid: checkpoint.replid, offset: checkpoint.offset } : undefined,
        },
        {
          onFullResync: guard(({ replid, offset }) => {
            this.progressState.fullSyncs += 1;
            this.progressState.replid = replid;
            this.progressState.sourceOffset = offset;
            this.progressState.acknowledgedOffset = -1;
            this.progressState.rdbBytesDone = 0;
            this.progressState.rdbBytesTotal = null;
            fullSyncOffset = offset;
            this.lag.reset();
            writer.streamReplid = replid;
            // The stream after an RDB starts in source db 0 (the source repeats SELECT before the first command).
            writer.setAcknowledgedOffset(-1, this.filter?.startStream(0) ?? 0);
            this.setPhase('full-sync');
            this.logger.info({ replid, offset }, 'full resync: receiving RDB');
            // The old checkpoint stops describing the target with the first RESTORE: forget it durably first.
            this.flow.pause('checkpoint');
            this.options.checkpoints
              .clear(this.options.shardId)
              .then(() => this.migrations?.beforeFirstRdb(linkEnded.signal))
              .then(
                () => {
                  // Ahead of every key on every link (a cluster target broadcasts it to all masters).
                  if (this.options.targetMode === 'flush-first') {
                    this.logger.warn('targetMode flush-first: FLUSHALL on the target before the RDB');
                    writer.applyCommand([FLUSHALL], -1);
                  }
                  this.flow.resume('checkpoint');
                },
                (error: Error) => fail(error),
              );
            this.checkpoints.reset(null);
            const { label, host, port } = this.source.linkOptions;
            loader = new RdbLoader({
              writer,
              rewrite: this.options.rewrite,
              capabilities: this.targetCapabilities ?? null,
              targetMode: this.options.targetMode,
              filter: this.filter,
              progress: this.progressState,
              bigKeyThreshold: this.options.bigKeyThreshold,
              sourceLabel: label ?? `${host}:${port}`,
              logger: this.logger,
              pauseSource: () => this.flow.pause('target'),
              onError: fail,
              rateCap: this.rateCap,
            });
          }),
          onContinue: guard(({ replid, offset }) => {
            writer.streamReplid = replid;
            this.progressState.partialSyncs += 1;
            this.progressState.replid = replid;
            this.progressState.sourceOffset = offset;
            this.progressState.acknowledgedOffset = offset;
            this.lag.reset();
            this.logger.info({ replid, offset }, 'partial resync accepted (+CONTINUE)');
            this.setPhase('incremental');
            onStreaming();
            void this.checkpoints.save(true);
          }),
          onRdbStart: guard(({ size }) => {
            this.progressState.rdbBytesTotal = size;
          }),
          onRdbData: guard((chunk: Buffer) => {
            this.progressState.rdbBytesDone += chunk.length;
            this.rateCap.take(0, chunk.length);
            loader?.push(chunk);
          }),
          onRdbEnd: guard(() => {
            loader?.end();
            loader = null;
            writer.barrier(fullSyncOffset);
            if (full) {
              this.completeFullSync(writer, client, fail);
              return;
            }
            this.logger.info(
              { keys: this.progressState.keysWritten, rdbBytes: this.progressState.rdbBytesDone },
              'RDB loaded; streaming commands',
            );
            this.setPhase('incremental');
            onStreaming();
          }),
          onCommand: guard((args: Buffer[], offsetAfter: number) => this.applyCommand(args, offsetAfter)),
          onClose: (error) => fail(error ?? new LinkStopped('closed')),
        },
      );
      this.client = client;
      client.start().catch(fail);
    }).finally(() => {
      this.endLink = null;
      linkEnded.abort(new LinkStopped('link ended'));
      this.gate?.close();
      this.gate = null;
    });
  }

  /** `mode: 'full'`: once the target confirmed the RDB, the link ends on purpose and run() resolves. */
  private completeFullSync(writer: TargetWriter, client: ReplicaClient, end: (error: Error) => void): void {
    client.pause();
    writer.flush().then(
      () => {
        this.completed = true;
        this.logger.info(
          { keys: this.progressState.keysWritten, rdbBytes: this.progressState.rdbBytesDone },
          'RDB loaded and confirmed by the target; full sync complete',
        );
        this.stopRequested = true;
        end(new LinkStopped('full sync complete'));
      },
      (error: Error) => end(error),
    );
  }

  /**
   * Exactly-once mode: the target's applied marker is written atomically with the data, so when it is ahead of
   * the checkpoint (a crash between the two) the stream resumes from the marker and nothing is applied twice.
   */
  private async withAppliedMarker(checkpoint: Checkpoint): Promise<Checkpoint> {
    const key = this.options.target.appliedMarkerKey;
    if (key === undefined || this.options.target.type !== 'standalone') return checkpoint;
    const marker = await readAppliedMarker(this.options.target, key);
    if (!marker || marker.replid !== checkpoint.replid || marker.offset <= checkpoint.offset)
      return checkpoint;
    this.logger.info(
      { checkpoint: checkpoint.offset, applied: marker.offset },
      'the target already applied the stream beyond the checkpoint: resuming from its applied marker',
    );
    return { ...checkpoint, offset: marker.offset, db: marker.db };
  }

  /** `fail-if-not-empty`, before this process writes anything: a target holding keys fails the shard. */
  private async checkTargetEmpty(): Promise<void> {
    if (this.targetChecked || this.options.targetMode !== 'fail-if-not-empty') return;
    // One shard of a cluster source cannot tell its siblings' keys from foreign ones: the plan check judges.
    if (this.options.wholeKeyspace === false || !this.options.targetKeyspace) return;
    const holding = (await this.options.targetKeyspace()).filter((node) => node.dbs.length > 0);
    if (holding.length > 0) throw new TargetNotEmptyError(holding);
    this.targetChecked = true;
  }

  private applyCommand(args: Buffer[], offsetAfter: number): void {
    const progress = this.progressState;
    const offsetBefore = progress.sourceOffset;
    const appliedBefore = progress.commandsApplied;
    progress.sourceOffset = offsetAfter;
    this.lag.arrived(offsetBefore);
    // Behind a pending migration barrier the command waits its turn in the gate.
    if (!this.gate?.offer(args, offsetAfter) && !this.deliverCommand(args, offsetAfter)) {
      this.flow.pause('target');
    }
    // After the hand-over: a cap holds the source back from the next command on.
    this.rateCap.take(progress.commandsApplied - appliedBefore, offsetAfter - offsetBefore);
  }

  /** Hands one command to the writer; false when the target's in-flight window is full. */
  private deliverCommand(args: Buffer[], offsetAfter: number): boolean {
    const name = args[0]?.toString('latin1').toLowerCase();
    // Link-level traffic: it advances the offset but has no effect to write.
    if (name === 'ping' || name === 'replconf') {
      this.writer!.barrier(offsetAfter);
      return true;
    }
    const filter = this.filter;
    if (!filter) {
      this.progressState.commandsApplied += 1;
      return this.writer!.applyCommand(args, offsetAfter);
    }
    const step = filter.push(args, offsetAfter);
    if (step.kind === 'drop') this.writer!.barrier(offsetAfter);
    if (step.kind !== 'forward') return true;
    let room = true;
    for (const command of step.commands) {
      if (!FRAMING.has(command.args[0].toString('latin1').toUpperCase()))
        this.progressState.commandsApplied += 1;
      room = this.writer!.applyCommand(command.args, command.offsetAfter) && room;
    }
    return room;
  }

  private onDrain(): void {
    this.gate?.resume();
    this.flow.resume('target');
  }

  /** Copies the writer's confirmed position (offset and the db selected there) into the shard's state. */
  private captureAcknowledged(writer: TargetWriter): void {
    if (writer.acknowledgedOffset < 0) return;
    this.progressState.acknowledgedOffset = writer.acknowledgedOffset;
    // Behind a filter the writer knows target dbs only; a resume needs the source's.
    this.acknowledgedDb = this.filter
      ? this.filter.sourceDbAt(writer.acknowledgedOffset)
      : writer.acknowledgedDb;
  }

  private onAcknowledged(offset: number): void {
    if (offset < 0 || !this.writer) return;
    this.captureAcknowledged(this.writer);
    this.client?.setAcknowledgedOffset(offset);
    this.checkpoints.acknowledged();
  }

  /**
   * Graceful stop, bounded by `stopTimeoutMs`: let the target confirm what it was sent, save the checkpoint, close.
   * What does not finish in time (a paused target, a queue Redis that is gone) is given up and said so in
   * {@link stopOutcome}. Mid-RDB there is nothing to resume from, so nothing is waited for.
   */
  private async finishGracefully(): Promise<void> {
    const deadline = Date.now() + this.stopTimeoutMs;
    const left = () => deadline - Date.now();
    const writer = this.writer;
    this.writer = null;
    await this.client?.close().catch(() => undefined);
    this.client = null;
    const duringFullSync = !this.completed && this.phaseAtStop === 'full-sync';
    let unconfirmedWrites = false;
    let checkpointError: string | null = null;
    if (writer) {
      if (!duringFullSync) {
        const flushed = await settleWithin(writer.flush(), left());
        if (flushed.kind === 'failed') this.recordError(flushed.error);
        unconfirmedWrites = flushed.kind !== 'done';
      }
      this.captureAcknowledged(writer);
      this.skippedExistingBefore += writer.stats.skippedExistingKeys;
      if (!duringFullSync && !this.aborted && !this.completed) {
        const saved = await settleWithin(this.checkpoints.save(true), left());
        if (saved.kind === 'failed') checkpointError = saved.error.message;
        if (saved.kind === 'timeout')
          checkpointError = `the checkpoint store did not answer within ${this.stopTimeoutMs} ms`;
      }
      // close() drops what is unsent and ends the socket (destroyed after 2 s at most).
      await settleWithin(writer.close(), 2500);
    }
    if (!this.checkpointKnown && !this.completed) {
      // Stopped before the first load: read what the store holds, so the last line does not guess.
      const loaded = this.options.checkpoints.load(this.options.shardId);
      const read = await settleWithin(loaded, Math.max(left(), 1000));
      if (read.kind === 'done') this.checkpoints.reset(await loaded);
    }
    const outcome: ShardStopOutcome = {
      checkpoint: duringFullSync || this.completed ? null : this.checkpoints.stored,
      duringFullSync,
      keysLoaded: this.progressState.keysWritten,
      unconfirmedWrites,
      checkpointError,
    };
    this.outcome = outcome;
    const fields = { offset: outcome.checkpoint?.offset, replid: outcome.checkpoint?.replid };
    if (this.completed) this.logger.info('full sync complete; no checkpoint kept (mode full)');
    else if (this.aborted) this.logger.info('aborted: unsent writes dropped, no checkpoint saved');
    else if (duringFullSync) {
      this.logger.warn(
        `stopped during the full sync: ${outcome.keysLoaded} keys loaded are kept on the target, no checkpoint: ` +
          'the next run starts a new full sync',
      );
    } else if (checkpointError) {
      this.logger.warn(
        fields,
        `stopped; checkpoint NOT saved (${checkpointError}): a resume starts from ` +
          (outcome.checkpoint
            ? `the last saved one, offset ${outcome.checkpoint.offset}`
            : 'a new full sync'),
      );
    } else if (outcome.checkpoint) {
      this.logger.info(
        fields,
        unconfirmedWrites
          ? `stopped; the target did not confirm every write within ${this.stopTimeoutMs} ms: checkpoint at the ` +
              'last confirmed offset (the rest is sent again on resume)'
          : 'stopped; checkpoint saved',
      );
    } else this.logger.info('stopped before any checkpoint: the next run starts with a full sync');
  }

  /** After a lost link: let the target confirm what it got (bounded), then drop both connections. */
  private async teardown(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.flow.reset();
    await client?.close().catch(() => undefined);
    const writer = this.writer;
    this.writer = null;
    if (writer) {
      await settleWithin(writer.flush(), this.stopTimeoutMs);
      this.captureAcknowledged(writer);
      this.skippedExistingBefore += writer.stats.skippedExistingKeys;
      await settleWithin(writer.close(), 2500);
    }
  }

  /** Confirms the shard's node or moves the link to the one that now serves its slots (a followed failover). */
  private async relocate(locator: SourceLocator): Promise<void> {
    const left = await this.source.relocate(locator);
    if (!left) return;
    this.lag.reset();
    const now = this.source.describe();
    this.progressState.sourceNode = now;
    if (this.linkedOnce) this.progressState.sourceFailovers += 1;
    this.logger[this.linkedOnce ? 'warn' : 'info'](
      { from: left, to: now },
      `${this.linkedOnce ? 'source failover: ' : ''}shard replicates from ${now.announced} (via ${now.reachable})`,
    );
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
