import type { Job, JobState } from 'bullmq';
import type { ShardJobData, ShardJobProgress, ShardRecord } from '@shardbridge/plan';

/** Where a shard is, as the API reports it: the worker's phase, or what the queue alone tells. */
export type ShardStatusPhase = ShardJobProgress['phase'] | 'missing';

/** BullMQ's state of the shard's job; `missing` when the job is gone (removed by hand). */
export type ShardJobState = JobState | 'unknown' | 'missing';

export interface ShardStatus
  extends ShardRecord, Omit<ShardJobProgress, 'phase' | 'replid' | 'workerId' | 'reportedAt'> {
  phase: ShardStatusPhase;
  jobState: ShardJobState;
  /** job.attemptsMade: runs that ended in failure since the job was (re)queued */
  attempts: number;
  workerId: string | null;
  /** unix ms of the worker's last report, null when it never reported */
  reportedAt: number | null;
}

export type ShardJob = Job<ShardJobData, unknown, string>;

const WAITING_STATES = new Set<ShardJobState>(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/** job.progress is whatever the worker last wrote; only an object with a phase counts as a report. */
export function readProgress(progress: unknown): Partial<ShardJobProgress> | null {
  if (typeof progress !== 'object' || progress === null) return null;
  const report = progress as Partial<ShardJobProgress>;
  return typeof report.phase === 'string' ? report : null;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * The phase of a shard. A waiting job is `queued` even when it carries a report from an earlier run (after resume
 * or retry), because no worker runs it now; a failed job is `failed` whatever it last reported; a completed job has
 * been stopped, unless it reported `completed` (a one-shot `mode: "full"` sync that reached its end).
 */
function phaseOf(state: ShardJobState, report: Partial<ShardJobProgress> | null): ShardStatusPhase {
  if (state === 'missing') return 'missing';
  if (state === 'failed') return 'failed';
  if (state === 'completed') return report?.phase === 'completed' ? 'completed' : 'stopped';
  if (WAITING_STATES.has(state)) return 'queued';
  return report?.phase ?? (state === 'active' ? 'connecting' : 'queued');
}

/** Combines the planned shard, its job and the job's state into what the API and /metrics report. */
export function shardStatus(
  record: ShardRecord,
  job: ShardJob | undefined,
  state: ShardJobState,
): ShardStatus {
  const report = job ? readProgress(job.progress) : null;
  let lastError = report?.lastError ?? null;
  if (state === 'failed' && job) {
    lastError = { code: lastError?.code ?? 'SHARD_FAILED', message: job.failedReason || 'the job failed' };
  }
  return {
    ...record,
    phase: phaseOf(state, report),
    jobState: state,
    rdbBytesDone: num(report?.rdbBytesDone, 0),
    rdbBytesTotal: typeof report?.rdbBytesTotal === 'number' ? report.rdbBytesTotal : null,
    keysWritten: num(report?.keysWritten, 0),
    commandsApplied: num(report?.commandsApplied, 0),
    keysFiltered: num(report?.keysFiltered, 0),
    commandsFiltered: num(report?.commandsFiltered, 0),
    keysSkippedExisting: num(report?.keysSkippedExisting, 0),
    keysSkippedExpired: num(report?.keysSkippedExpired, 0),
    sourceOffset: num(report?.sourceOffset, -1),
    acknowledgedOffset: num(report?.acknowledgedOffset, -1),
    lagBytes: num(report?.lagBytes, 0),
    lagMs: num(report?.lagMs, 0),
    opsPerSecond: num(report?.opsPerSecond, 0),
    fullSyncs: num(report?.fullSyncs, 0),
    partialSyncs: num(report?.partialSyncs, 0),
    reconnects: num(report?.reconnects, 0),
    migrationBarriers: num(report?.migrationBarriers, 0),
    migrationBarrierTimeouts: num(report?.migrationBarrierTimeouts, 0),
    attempts: job?.attemptsMade ?? 0,
    workerId: typeof report?.workerId === 'string' ? report.workerId : null,
    lastError,
    reportedAt: typeof report?.reportedAt === 'number' ? report.reportedAt : null,
    // the caps in force and the source's output buffer, when the worker reports them
    ...(typeof report?.rateCap === 'object' && report.rateCap !== null
      ? { rateCap: { ...report.rateCap } }
      : {}),
    ...(typeof report?.outputBuffer === 'object' && report.outputBuffer !== null
      ? { outputBuffer: { ...report.outputBuffer } }
      : {}),
    // the consistency monitor's findings, when the plan enables it
    ...(typeof report?.consistency === 'object' && report.consistency !== null
      ? { consistency: { ...report.consistency } }
      : {}),
    // scan mode's own counters (keys scanned/re-read, re-scans), when the worker reports them
    ...(typeof report?.scan === 'object' && report.scan !== null ? { scan: { ...report.scan } } : {}),
  };
}
