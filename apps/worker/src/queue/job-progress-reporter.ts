import type { ShardJobProgress } from '@shardbridge/plan';
import type { ShardProgress } from '../shard-progress.js';

/**
 * What the worker publishes: the plan contract's report plus the link-health fields (optional, so a report from
 * an older worker still reads as one). To move into `ShardJobProgress` in packages/plan.
 */
/** kept for callers that imported it: job progress carries the link-health fields itself now */
export type WorkerJobProgress = ShardJobProgress;

export interface JobProgressReporterOptions {
  workerId: string;
  /** minimum time between two published reports; phase changes are published at once */
  intervalMs: number;
  /** writes one report (job.updateProgress); a rejection is passed to `onError`, never thrown */
  publish: (progress: WorkerJobProgress) => Promise<void>;
  onError: (error: Error) => void;
  /** @defaultValue Date.now */
  now?: () => number;
  /** fields of other components of the shard (e.g. the consistency monitor's report), added to each report */
  extras?: () => Partial<ShardJobProgress>;
}

/** Bound on remembered (time, sourceOffset) samples for lagMs; at one per second, about an hour of lag. */
const MAX_LAG_SAMPLES = 4096;
/** Rates over shorter windows than this jump around too much to be worth showing. */
const MIN_RATE_WINDOW_MS = 250;

/**
 * Turns ShardSync snapshots into the queue's `ShardJobProgress` and publishes them at most once per interval
 * (plus every phase change). Derives what a single snapshot cannot say: `opsPerSecond` (keys restored + commands
 * applied per second, between successive snapshots) and `lagMs` (how long ago the oldest byte the target has not
 * confirmed arrived from the source, to the resolution of the snapshot interval).
 *
 * Only counters, offsets and error codes/messages are copied: never connection settings, so never a secret.
 */
export class JobProgressReporter {
  private readonly now: () => number;
  private readonly lagSamples: Array<{ at: number; sourceOffset: number }> = [];
  private rateBase: { at: number; ops: number } | null = null;
  private opsPerSecond = 0;
  private latest: WorkerJobProgress | null = null;
  private lastPublished: { at: number; phase: string } | null = null;
  private publishing: Promise<void> = Promise.resolve();
  private trailingTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: JobProgressReporterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The last report built (published or not). */
  get current(): WorkerJobProgress | null {
    return this.latest;
  }

  /** Feed every ShardSync snapshot here (its `onProgress`). */
  onProgress(progress: ShardProgress): void {
    if (this.closed) return;
    const report = this.toJobProgress(progress);
    this.latest = report;
    const last = this.lastPublished;
    if (!last || last.phase !== report.phase || report.reportedAt - last.at >= this.options.intervalMs) {
      this.publishLatest();
    } else if (!this.trailingTimer) {
      // Publish the newest snapshot when the interval is over, so the last word before a quiet spell is not lost.
      this.trailingTimer = setTimeout(
        () => this.publishLatest(),
        last.at + this.options.intervalMs - report.reportedAt,
      );
      this.trailingTimer.unref();
    }
  }

  /** Publishes a final report with `phase` overridden (e.g. `stopped` after a hand-off) and waits for it. */
  async finish(phase?: ShardJobProgress['phase'], lastError?: ShardJobProgress['lastError']): Promise<void> {
    if (this.latest && !this.closed) {
      this.latest = {
        ...this.latest,
        phase: phase ?? this.latest.phase,
        lastError: lastError === undefined ? this.latest.lastError : lastError,
        reportedAt: this.now(),
      };
      this.publishLatest();
    }
    this.closed = true;
    await this.publishing;
  }

  /** Publishes nothing more (the job belongs to someone else now). */
  discard(): void {
    this.closed = true;
    if (this.trailingTimer) clearTimeout(this.trailingTimer);
    this.trailingTimer = null;
  }

  private publishLatest(): void {
    if (this.trailingTimer) clearTimeout(this.trailingTimer);
    this.trailingTimer = null;
    const report = this.latest;
    if (!report) return;
    this.lastPublished = { at: report.reportedAt, phase: report.phase };
    // Chained so reports reach the job in the order they were built.
    this.publishing = this.publishing
      .then(() => this.options.publish(report))
      .catch((error: Error) => this.options.onError(error));
  }

  private toJobProgress(progress: ShardProgress): WorkerJobProgress {
    const at = this.now();
    const ops = progress.keysWritten + progress.commandsApplied;
    if (!this.rateBase || ops < this.rateBase.ops) {
      this.rateBase = { at, ops };
    } else if (at - this.rateBase.at >= MIN_RATE_WINDOW_MS) {
      this.opsPerSecond = Math.round(((ops - this.rateBase.ops) * 1000) / (at - this.rateBase.at));
      this.rateBase = { at, ops };
    }
    return {
      phase: progress.phase,
      workerId: this.options.workerId,
      replid: progress.replid,
      rdbBytesDone: progress.rdbBytesDone,
      rdbBytesTotal: progress.rdbBytesTotal,
      keysWritten: progress.keysWritten,
      commandsApplied: progress.commandsApplied,
      keysFiltered: progress.keysFiltered ?? 0,
      commandsFiltered: progress.commandsFiltered ?? 0,
      keysSkippedExisting: progress.keysSkippedExisting ?? 0,
      keysSkippedExpired: progress.keysSkippedExpired ?? 0,
      sourceOffset: progress.sourceOffset,
      acknowledgedOffset: progress.acknowledgedOffset,
      lagBytes: progress.lagBytes,
      // the engine's own measure (arrival times of stream bytes) when it has one; else estimated from snapshots
      lagMs: progress.lagMs ?? this.lagMs(progress, at),
      opsPerSecond: this.opsPerSecond,
      fullSyncs: progress.fullSyncs,
      partialSyncs: progress.partialSyncs,
      reconnects: progress.reconnects,
      lastError: progress.lastError && { code: progress.lastError.code, message: progress.lastError.message },
      rttMs: progress.rttMs,
      lastDisconnect: progress.lastDisconnect && { ...progress.lastDisconnect },
      sourceNode: progress.sourceNode && { ...progress.sourceNode },
      sourceFailovers: progress.sourceFailovers,
      keyRewrite: progress.keyRewrite && { ...progress.keyRewrite },
      // scan mode's own counters (keys scanned/re-read, re-scans); absent for replication
      ...(progress.scan ? { scan: { ...progress.scan } } : {}),
      ...(progress.rateCap ? { rateCap: { ...progress.rateCap } } : {}),
      ...(progress.outputBuffer ? { outputBuffer: { ...progress.outputBuffer } } : {}),
      migrationBarriers: progress.migrationBarriers,
      migrationBarrierTimeouts: progress.migrationBarrierTimeouts,
      ...this.options.extras?.(),
      reportedAt: at,
    };
  }

  private lagMs(progress: ShardProgress, at: number): number {
    const samples = this.lagSamples;
    const { sourceOffset, acknowledgedOffset } = progress;
    // A lower source offset means a new replication history (full resync): the old samples describe nothing.
    if (sourceOffset < (samples[samples.length - 1]?.sourceOffset ?? -1)) samples.length = 0;
    const tail = samples[samples.length - 1];
    if (sourceOffset >= 0 && (!tail || sourceOffset > tail.sourceOffset)) samples.push({ at, sourceOffset });
    // Samples the target has fully confirmed say nothing about the oldest unconfirmed byte any more.
    while (samples.length > 0 && samples[0].sourceOffset <= acknowledgedOffset) samples.shift();
    if (samples.length > MAX_LAG_SAMPLES) samples.splice(0, samples.length - MAX_LAG_SAMPLES);
    if (progress.lagBytes <= 0 || acknowledgedOffset < 0 || samples.length === 0) return 0;
    return at - samples[0].at;
  }
}
