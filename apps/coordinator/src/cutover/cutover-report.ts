import type { DifferenceTotals } from '@shardbridge/plan';

/** Where a cutover is. `cut-over` and `failed` are final. */
export type CutoverStatus =
  'pausing' | 'waiting-for-confirmation' | 'catching-up' | 'verifying' | 'stopping' | 'cut-over' | 'failed';

/** The cutover of a plan, stored with it (plan hash field `cutover`) and updated at each step. */
export interface CutoverReport {
  id: string;
  planId: string;
  status: CutoverStatus;
  /** why `failed`: the step, what was waited for and what to do */
  reason?: string;
  startedAt: string;
  finishedAt?: string;
  /** how writes were stopped: `client-pause` (CLIENT PAUSE WRITE by the cutover) or `operator` */
  writesStoppedBy?: 'client-pause' | 'operator';
  /** each step that began, with its times (ISO 8601) */
  steps: Array<{
    step: Exclude<CutoverStatus, 'cut-over' | 'failed'>;
    startedAt: string;
    finishedAt?: string;
  }>;
  /** per shard: the master's offset the shard caught up to, and the acknowledged offset seen then */
  shards: Array<{ shardId: string; masterOffset: number; acknowledgedOffset: number; keysWritten?: number }>;
  /** source keys compared by the verification */
  keys?: number;
  verification?: { id: string; status: string; totals: DifferenceTotals & { keysCompared: number } };
  warnings: string[];
  /** while in progress: when the coordinator last stored it (every few seconds; a stale one was interrupted) */
  heartbeatAt?: string;
}
