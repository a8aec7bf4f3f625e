/**
 * The contract of verification (coordinator ↔ workers) and the reports it produces. A verification runs one job
 * per shard on the `VERIFY_QUEUE`; each job carries the shard's own job data (so NAT, TLS and secret references are
 * mapped exactly as for the sync) plus the verification settings, and returns a {@link ShardVerification}.
 */
import type { ShardJobData } from './shard-job.js';

/** BullMQ queue of verification jobs (one per shard and run), processed by the same worker processes. */
export const VERIFY_QUEUE = 'shardbridge-verify';

/**
 * `count`: keys per db (cluster: per shard's slots) on both sides. `sample`: `sampleSize` random source keys per
 * shard compared in full. `full`: every source key compared, and every target key in the shard's slots checked for
 * existence on the source (extras).
 */
export type VerifyLevel = 'count' | 'sample' | 'full';

/** Settings of one verification run (POST /v1/plans/:id/verify body, every field optional). */
export interface VerifySettings {
  /** @defaultValue 'full' */
  level: VerifyLevel;
  /** random keys per shard for `sample`. @defaultValue 1000 */
  sampleSize: number;
  /** passes over the keys that differ (the first pass included): a key is reported only if it differs in every one. @defaultValue 3 */
  rounds: number;
  /** pause before each re-check round, so writes in flight reach the target. @defaultValue 2000 */
  roundDelayMs: number;
  /** largest accepted difference between the two sides' remaining TTLs. @defaultValue 5000 */
  ttlToleranceMs: number;
  /** differences listed per report (totals count all of them). @defaultValue 100 */
  maxDifferences: number;
  /** keys estimated larger than this (MEMORY USAGE) are compared by streaming ranges. @defaultValue 1048576 */
  bigKeyBytes: number;
}

export const DEFAULT_VERIFY_SETTINGS: VerifySettings = {
  level: 'full',
  sampleSize: 1000,
  rounds: 3,
  roundDelayMs: 2000,
  ttlToleranceMs: 5000,
  maxDifferences: 100,
  bigKeyBytes: 1024 * 1024,
};

/** Data of one verification job. jobId = `verify-<runId>-<shard index>`. */
export interface VerifyJobData {
  runId: string;
  settings: VerifySettings;
  /** the shard's sync job data as the coordinator would enqueue it now */
  shard: ShardJobData;
}

export type DifferenceKind = 'missing' | 'extra' | 'type' | 'value' | 'ttl';

/** What one side holds under a key. `type: 'none'` = absent. */
export interface KeySummary {
  type: string;
  /** PTTL in ms; -1 = no expiry, -2 = absent */
  ttlMs: number;
  /** STRLEN for strings, the element count for collections; absent when unknown */
  length?: number;
  /** first 16 hex chars of the canonical content hash, when one was computed */
  digest?: string;
}

/** One key that differed in every round. `key` is UTF-8 when it decodes cleanly, else `base64:<...>`. */
export interface KeyDifference {
  key: string;
  db: number;
  shard: string;
  kind: DifferenceKind;
  source: KeySummary;
  target: KeySummary;
  /** what differs, in words (e.g. `element 0 of the list differs`) */
  detail?: string;
}

export type DifferenceTotals = Record<DifferenceKind, number>;

/** Key counts of one db of a shard (level `count`; also reported by the other levels). */
export interface DbCount {
  db: number;
  source: number;
  target: number;
}

/** A worker's result for one shard. */
export interface ShardVerification {
  shardId: string;
  /** `error`: the shard could not be verified (see `error`) */
  status: 'clean' | 'differences' | 'error';
  keysCompared: number;
  /** target keys checked for a source counterpart (level `full`) */
  targetKeysChecked: number;
  counts: DbCount[];
  totals: DifferenceTotals;
  /** the first `maxDifferences` differences */
  differences: KeyDifference[];
  /** rounds actually run (fewer when a round left nothing to re-check) */
  roundsRun: number;
  /** keys that differed in an earlier round and agreed in a later one: writes in flight, not reported */
  transient: number;
  /** source and target `redis_version`; DUMP payloads are compared only when they are equal */
  versions: { source: string; target: string };
  /** `{ code, message }` when status is `error` */
  error?: { code: string; message: string };
  startedAt: number;
  finishedAt: number;
}

/** How far a shard's verification has come (the job's progress while it runs). */
export interface ShardVerifyProgress {
  shardId: string;
  /** `source`: comparing the source's keys; `extras`: looking for target keys the source lacks; `rounds`: re-checking */
  stage: 'source' | 'extras' | 'rounds' | 'counts';
  keysCompared: number;
  targetKeysChecked: number;
  /** keys that differed so far in the first pass (before rounds) */
  suspects: number;
}

/** A verification of a whole plan, stored with it (plan hash field `verification`). */
export interface VerificationReport {
  id: string;
  planId: string;
  settings: VerifySettings;
  /** `running` until every shard answered; `clean` only when every shard is clean */
  status: 'running' | 'clean' | 'differences' | 'failed';
  /** why `failed` (a shard that could not be verified, a timeout) */
  reason?: string;
  startedAt: string;
  finishedAt?: string;
  totals: DifferenceTotals & { keysCompared: number; targetKeysChecked: number };
  differences: KeyDifference[];
  /** more differences exist than listed */
  truncated: boolean;
  shards: Array<Omit<ShardVerification, 'differences'>>;
  /** while `running`: when the coordinator last stored it (every few seconds; a stale one was interrupted) */
  heartbeatAt?: string;
  /** while `running`: the shards still at work (refreshed every few seconds) */
  progress?: ShardVerifyProgress[];
}

export function emptyTotals(): DifferenceTotals {
  return { missing: 0, extra: 0, type: 0, value: 0, ttl: 0 };
}
