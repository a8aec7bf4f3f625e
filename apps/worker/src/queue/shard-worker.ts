import { hostname } from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import {
  keys,
  LOG_REDACTION,
  NO_CAPS,
  SHARD_QUEUE,
  type ShardJobData,
  type ShardRecord,
} from '@shardbridge/plan';
import { RedisCheckpointStore } from '../checkpoint/redis-checkpoint-store.js';
import { migrationBarrierFromJob } from '../resharding/barrier-from-job.js';
import { ConsistencyMonitor } from '../consistency/consistency-monitor.js';
import { shardEngineForJob, type ShardEngine } from '../shard-engine.js';
import { ShardSyncError } from '../sync-errors.js';
import { JobProgressReporter } from './job-progress-reporter.js';
import { bullConnection, connectQueueRedis, type QueueConnection } from './queue-connection.js';
import { ShardControl } from './shard-control.js';
import type { SecretResolver } from './sync-options-from-job.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';
import { settleWithin } from '../shard-sync-stop.js';
import { VerifyWorker } from '../verify/verify-worker.js';

export interface ShardWorkerOptions {
  /** the queue's Redis (BullMQ keys, checkpoints, control, heartbeats); run it with `appendonly yes` */
  connection: QueueConnection;
  /** shards this process runs at once; each running shard holds one slot for as long as it syncs. @defaultValue 1 */
  concurrency?: number;
  /** @defaultValue `${hostname}-${pid}` */
  workerId?: string;
  /** @defaultValue pino at level `info` on stdout */
  logger?: Logger;
  /**
   * How long a job's lock lives without renewal. BullMQ renews it every `lockDurationMs / 2` while the processor's
   * promise is pending, which for a shard is as long as it syncs. When a worker dies (kill -9, lost host) nothing
   * renews it: the lock lapses after at most this long, the next stalled check of any live worker marks the job
   * and the one after moves it back to wait, where another worker takes it and resumes from the checkpoint with
   * +CONTINUE. So a dead worker's shard restarts about `lockDurationMs + stalledIntervalMs` (at most
   * `lockDurationMs + 2 × stalledIntervalMs`) after the death. Shorter means faster recovery but a live worker
   * whose event loop or link to the queue's Redis stalls longer than this loses its shard (it notices through a
   * failed renewal and stops its sync, see `lockRenewalFailed`). 10 s is well above any event-loop pause of a
   * streaming sync and short next to the source's replication backlog, which must cover the outage for +CONTINUE.
   * @defaultValue 10000
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (of any worker). See `lockDurationMs`. @defaultValue 5000 */
  stalledIntervalMs?: number;
  /**
   * How many times a job may be recovered from a stall before BullMQ fails it. BullMQ never resets the count
   * while a job lives, and for a shard each stall is one worker death that was survived by resuming from the
   * checkpoint, which is safe: it is set high so a long-lived shard is not failed by its tenth lost host.
   * @defaultValue 1000
   */
  maxStalledCount?: number;
  /** resolves `env:`/`file:` password references on this host. @defaultValue the plan package's `resolveSecret` */
  resolveSecret?: SecretResolver;
  /** minimum time between two `job.updateProgress` calls per shard (phase changes go out at once). @defaultValue 1000 */
  progressIntervalMs?: number;
  /** how often this worker's record in `keys.workers()` is refreshed. @defaultValue 5000 */
  heartbeatIntervalMs?: number;
  /** fallback read of the control keys of running shards, should a pub/sub message be lost. @defaultValue 3000 */
  controlPollIntervalMs?: number;
  /** passed to each ShardSync. @defaultValue ShardSync's (10) */
  maxReconnectAttempts?: number;
  /**
   * How long a shard holds migrated keys (RESTORE-ASKING of a reshard) waiting for the other shards of its plan to
   * confirm their source offsets, before it applies them anyway with a warning (counted as
   * `migrationBarrierTimeouts` in progress). See apps/worker/src/resharding.
   * @defaultValue 60000
   */
  migrationBarrierTimeoutMs?: number;
  /**
   * Verification jobs (queue `shardbridge-verify`, one per shard of a `verify` or `cutover`) this process runs at
   * once, next to its shards; they hold no shard slot. 0 = this process takes none.
   * @defaultValue 2
   */
  verifyConcurrency?: number;
  /**
   * Bound on `stop()`. Each running shard gets two thirds of it to let the target confirm its writes and save its
   * checkpoint (ShardSyncOptions.stopTimeoutMs), the rest goes to handing the jobs back. Past it the worker closes
   * its connections without waiting further (a queue Redis that is gone, a paused target) and logs which shards it
   * could not hand back: those are taken over by another worker once their locks lapse (`lockDurationMs`), from
   * their last saved checkpoint.
   * @defaultValue 15000
   */
  stopTimeoutMs?: number;
}

/** Return value of a shard job that completed: it only completes when told to stop. */
export interface ShardJobResult {
  stopped: true;
  workerId: string;
  replid: string | null;
  /** the acknowledged offset the checkpoint holds (-1 when none was reached) */
  acknowledgedOffset: number;
}

export interface ShardWorkerStopOptions {
  /**
   * `true`: each running shard stops gracefully (target flushed, checkpoint saved) and its job goes straight back
   * to the queue (delayed until now, neither completed nor failed) for another worker, which resumes it within
   * seconds. A shard whose control says `stop` completes instead. `false`: the shards stop gracefully but their
   * jobs are left active with their locks unrenewed; the stalled check recovers them after ~`lockDurationMs`, as
   * after a crash but without losing in-flight commands.
   * @defaultValue true
   */
  handOff?: boolean;
}

type StopReason = 'control' | 'hand-off' | 'abandon' | 'lock-lost';

interface RunningShard {
  job: Job<ShardJobData, ShardJobResult>;
  /** ShardSync, or ScanSync for a job whose `mode` is `scan` */
  sync: ShardEngine;
  reporter: JobProgressReporter;
  stopReason: StopReason | null;
  /** settles when the sync's `run()` has settled */
  done: Promise<unknown>;
}

/**
 * A BullMQ worker for shard jobs: each job is one long-lived ShardSync whose processor promise stays pending for
 * as long as the shard syncs (BullMQ keeps renewing the lock). A job completes only when the shard's control says
 * `stop`; it fails on a non-transient sync error (message from ShardSyncError: shard, address, fix); a retry of
 * either runs the processor again, which resumes from the checkpoint in the queue's Redis.
 */
export class ShardWorker {
  readonly workerId: string;
  private readonly logger: Logger;
  private readonly running = new Map<string, RunningShard>();
  private client: Redis | null = null;
  private control: ShardControl | null = null;
  private heartbeat: WorkerHeartbeat | null = null;
  private worker: Worker<ShardJobData, ShardJobResult> | null = null;
  private verifier: VerifyWorker | null = null;
  private stopping: Promise<void> | null = null;
  private releaseAbandoned: () => void = () => undefined;
  private readonly abandoned = new Promise<void>((resolve) => (this.releaseAbandoned = resolve));

  constructor(private readonly options: ShardWorkerOptions) {
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}`;
    this.logger = (options.logger ?? pino({ level: 'info', redact: LOG_REDACTION })).child({
      worker: this.workerId,
    });
  }

  /** Shard ids this worker is syncing right now. */
  get runningShards(): string[] {
    return [...this.running.values()].map((shard) => shard.job.data.shardId);
  }

  /** Connects, starts the heartbeat and starts taking jobs. Resolves once the worker is ready. */
  async start(): Promise<void> {
    if (this.worker) return;
    const { options } = this;
    const concurrency = options.concurrency ?? 1;
    this.client = connectQueueRedis(options.connection, {
      connectionName: `shardbridge-worker-${this.workerId}`,
    });
    this.client.on('error', (error: Error) =>
      this.logger.debug({ err: error.message }, 'queue connection error'),
    );
    this.control = new ShardControl(options.connection, {
      pollIntervalMs: options.controlPollIntervalMs,
      logger: this.logger,
    });
    await this.control.ready();
    this.heartbeat = new WorkerHeartbeat(
      this.client,
      this.workerId,
      { host: hostname(), pid: process.pid, concurrency },
      options.heartbeatIntervalMs ?? 5000,
      this.logger,
    );
    await this.heartbeat.start();
    const worker = new Worker<ShardJobData, ShardJobResult>(
      SHARD_QUEUE,
      (job, token) => this.process(job, token),
      {
        connection: bullConnection(options.connection),
        name: this.workerId,
        concurrency,
        lockDuration: options.lockDurationMs ?? 10_000,
        stalledInterval: options.stalledIntervalMs ?? 5_000,
        maxStalledCount: options.maxStalledCount ?? 1000,
        autorun: false,
      },
    );
    worker.on('error', (error) => this.logger.error({ err: error.message }, 'queue worker error'));
    worker.on('failed', (job, error) =>
      this.logger.error({ shard: job?.data.shardId, jobId: job?.id }, `shard job failed: ${error.message}`),
    );
    worker.on('stalled', (jobId) => this.logger.warn({ jobId }, 'stalled shard job moved back to wait'));
    // Lost lock = the job may already be another worker's: stop writing to the target from here.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        const shard = this.running.get(jobId);
        if (shard) this.stopShard(shard, 'lock-lost');
      }
    });
    this.worker = worker;
    worker.run().catch((error: Error) => this.logger.error({ err: error.message }, 'queue worker stopped'));
    await worker.waitUntilReady();
    if ((options.verifyConcurrency ?? 2) > 0) {
      this.verifier = new VerifyWorker({
        connection: options.connection,
        concurrency: options.verifyConcurrency,
        workerId: this.workerId,
        logger: this.logger,
        resolveSecret: options.resolveSecret,
      });
      await this.verifier.start();
    }
    this.logger.info({ concurrency }, 'shard worker started');
  }

  /** Stops every running shard (see {@link ShardWorkerStopOptions}), closes the worker and its connections. */
  async stop(options: ShardWorkerStopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.handOff ?? true);
    await this.stopping;
  }

  private get stopTimeoutMs(): number {
    return this.options.stopTimeoutMs ?? 15_000;
  }

  /** {@link gracefulShutdown} within `stopTimeoutMs`; past it, every connection is closed without waiting. */
  private async shutdown(handOff: boolean): Promise<void> {
    const shards = this.runningShards;
    const graceful = this.gracefulShutdown(handOff);
    const ended = await settleWithin(graceful, this.stopTimeoutMs);
    if (ended.kind === 'done') return;
    const left = this.runningShards;
    this.logger.warn(
      { shards, notHandedBack: left },
      `stop did not finish within ${this.stopTimeoutMs} ms` +
        (ended.kind === 'failed'
          ? ` (${ended.error.message})`
          : ' (the queue Redis or a target does not answer)') +
        `: closing without waiting. ${left.length > 0 ? `Shards not handed back (${left.join(', ')}) are` : 'Any shard not handed back is'}` +
        ' taken over by another worker once their job locks lapse, from their last saved checkpoint',
    );
    await settleWithin(
      Promise.allSettled([this.worker?.close(true), this.verifier?.stop(true), this.control?.close()]),
      1000,
    );
    this.client?.disconnect();
    this.releaseAbandoned();
  }

  private async gracefulShutdown(handOff: boolean): Promise<void> {
    const worker = this.worker;
    this.logger.info({ shards: this.runningShards, handOff }, 'shard worker stopping');
    const reason: StopReason = handOff ? 'hand-off' : 'abandon';
    for (const shard of this.running.values()) this.stopShard(shard, reason);
    // A verification in progress is not waited for: its job's lock lapses and another worker runs it again.
    await this.verifier
      ?.stop(true)
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'verify worker close'));
    if (worker) {
      if (handOff) {
        // Waits for the processors: each hands its job back (or completes it) once its sync has checkpointed.
        await worker.close();
      } else {
        await Promise.allSettled([...this.running.values()].map((shard) => shard.done));
        await worker.close(true);
        this.releaseAbandoned();
      }
    }
    await this.heartbeat
      ?.stop()
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat'));
    await this.control?.close();
    await this.client?.quit().catch(() => this.client?.disconnect());
    this.logger.info('shard worker stopped');
  }

  private stopShard(shard: RunningShard, reason: StopReason): void {
    if (shard.stopReason) return;
    shard.stopReason = reason;
    this.logger.info({ shard: shard.job.data.shardId, reason }, 'stopping shard');
    // A lost lock ends the writes at once: a graceful stop would flush them into a shard another worker may own.
    void (reason === 'lock-lost' && shard.sync.abort ? shard.sync.abort() : shard.sync.stop());
  }

  private async process(job: Job<ShardJobData, ShardJobResult>, token?: string): Promise<ShardJobResult> {
    const data = job.data;
    const control = this.control!;
    const logger = this.logger.child({ shard: data.shardId, jobId: job.id });
    if (this.stopping) return this.handBack(job, token);
    if ((await control.desiredState(data.shardId)) === 'stop') {
      logger.info('control says stop: completing the job without syncing');
      return this.result(null, -1);
    }
    let monitor: ConsistencyMonitor | null = null;
    const reporter = new JobProgressReporter({
      workerId: this.workerId,
      intervalMs: this.options.progressIntervalMs ?? 1000,
      publish: (progress) => job.updateProgress(progress),
      onError: (error) => logger.debug({ err: error.message }, 'progress update failed'),
      extras: () => (monitor ? { consistency: monitor.report } : {}),
    });
    // The caps apply from the first byte; a read that fails starts uncapped and the watch below applies them.
    const rateCaps = await control.capsOf(data.planId, data.shardId).catch((error: Error) => {
      logger.warn({ err: error.message }, 'cannot read the rate caps yet: starting uncapped');
      return NO_CAPS;
    });
    // Exactly-once: a new epoch for this owner, taken after the job's lock: every earlier owner's is lower, so the
    // target refuses whatever such a worker still sends (paused, or cut off from the queue) once this one wrote.
    const fenceEpoch = data.target.exactlyOnce
      ? await this.client!.incr(keys.fenceEpoch(data.shardId))
      : undefined;
    let sync: ShardEngine;
    try {
      sync = shardEngineForJob(
        data,
        {
          // Fenced by the job's lock: once another worker may own the shard, this one cannot move its checkpoint.
          checkpoints: new RedisCheckpointStore(this.client!, {
            fence: token ? { key: `${this.worker!.toKey(job.id!)}:lock`, token } : undefined,
          }),
          logger,
          resolveSecret: this.options.resolveSecret,
          // A run before this one reported progress: it may have written (BullMQ starts progress at 0).
          targetWrittenBefore: typeof job.progress === 'object' && job.progress !== null,
          fenceEpoch,
          currentSlots: () => recordedSlots(this.client!, data),
        },
        {
          onProgress: (progress) => reporter.onProgress(progress),
          progressIntervalMs: this.options.progressIntervalMs,
          maxReconnectAttempts: this.options.maxReconnectAttempts,
          stopTimeoutMs: Math.round((this.stopTimeoutMs * 2) / 3),
          migrationBarrier: migrationBarrierFromJob(data, {
            redis: this.client!,
            logger,
            resolveSecret: this.options.resolveSecret,
            timeoutMs: this.options.migrationBarrierTimeoutMs,
            isSyncing: (shard) => this.isSyncing(shard.jobId),
          }),
          barrierBeforeFirstRdb: data.addedByReplan === true,
          rateCaps,
        },
      );
    } catch (error) {
      const failure = new ShardSyncError(data.shardId, error);
      await reporter.finish('failed', { code: failure.code, message: failure.message });
      throw failure;
    }
    reporter.onProgress(sync.progress);
    const running = sync.run();
    if (data.consistency?.enabled) {
      monitor = new ConsistencyMonitor({
        data,
        logger,
        resolveSecret: this.options.resolveSecret,
        position: () => ({
          acknowledgedOffset: sync.progress.acknowledgedOffset,
          live: sync.progress.phase === 'incremental',
        }),
      });
      monitor.start();
    }
    const shard: RunningShard = {
      job,
      sync,
      reporter,
      stopReason: null,
      done: running.catch(() => undefined),
    };
    this.running.set(job.id!, shard);
    const unwatch = control.watch(data.shardId, () => this.stopShard(shard, 'control'));
    const unwatchCaps = control.watchCaps(data.planId, data.shardId, (caps) => {
      const capped = caps.opsPerSecond !== null || caps.bytesPerSecond !== null;
      logger[capped ? 'info' : 'debug']({ caps }, capped ? 'rate caps in force' : 'no rate caps');
      sync.setRateCaps?.(caps);
    });
    if (this.stopping) this.stopShard(shard, 'hand-off'); // shutdown began while this job was being taken
    try {
      await running;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Fenced (by the job lock at a checkpoint, or by the target refusing an older owner's batch): another worker
      // owns the shard now; this one drops it without a word in the job.
      if (shard.stopReason === 'lock-lost' || code === 'CHECKPOINT_FENCED' || code === 'TARGET_FENCED') {
        if (code === 'TARGET_FENCED')
          logger.warn('the target refused a batch from an older owner of the shard');
        return this.leaveLostJob(shard, logger);
      }
      await reporter.finish('failed');
      throw error; // a ShardSyncError: names the shard, the address and the fix, never a secret
    } finally {
      await monitor?.stop();
      unwatch();
      unwatchCaps();
      this.running.delete(job.id!);
    }
    const { replid, acknowledgedOffset } = sync.progress;
    switch (shard.stopReason) {
      case 'hand-off':
        if ((await control.desiredState(data.shardId)) === 'stop') break;
        await reporter.finish('queued');
        return this.handBack(job, token);
      case 'abandon':
        await reporter.finish('queued');
        await this.abandoned; // after worker.close(true): BullMQ no longer records an outcome
        throw new DelayedError();
      case 'lock-lost':
        return this.leaveLostJob(shard, logger);
      default:
        break;
    }
    // A one-shot sync that reached its end says so; any other ending was a stop.
    await reporter.finish(sync.progress.phase === 'completed' ? 'completed' : 'stopped');
    return this.result(replid, acknowledgedOffset);
  }

  /** Whether a shard's job reports a running sync (BullMQ keeps the last `updateProgress` in the job hash). */
  private async isSyncing(jobId: string): Promise<boolean> {
    const raw = await this.client!.hget(this.worker!.toKey(jobId), 'progress');
    const phase = (raw ? (JSON.parse(raw) as { phase?: unknown }) : null)?.phase;
    return phase === 'full-sync' || phase === 'incremental';
  }

  /** The job's lock is gone: the job is no longer ours to complete, fail or move; the stalled check recovers it. */
  private leaveLostJob(shard: RunningShard, logger: Logger): never {
    shard.reporter.discard();
    logger.warn('lost the job lock; leaving the shard to the worker that takes the job next');
    throw new DelayedError();
  }

  /** Puts a job this worker holds back in the queue for any worker, neither completed nor failed. */
  private async handBack(job: Job<ShardJobData, ShardJobResult>, token?: string): Promise<never> {
    await job.moveToDelayed(Date.now(), token);
    this.logger.info({ shard: job.data.shardId, jobId: job.id }, 'shard handed back to the queue');
    throw new DelayedError();
  }

  private result(replid: string | null, acknowledgedOffset: number): ShardJobResult {
    return { stopped: true, workerId: this.workerId, replid, acknowledgedOffset };
  }
}

/** The shard's slots in its plan's record, which the coordinator's topology watcher keeps current; null if unknown. */
async function recordedSlots(redis: Redis, data: ShardJobData): Promise<Array<[number, number]> | null> {
  const shards = JSON.parse((await redis.hget(keys.plan(data.planId), 'shards')) ?? '[]') as ShardRecord[];
  const record = shards.find((shard) => shard.id === data.shardId);
  return record && record.slots.length > 0 ? record.slots : null;
}
