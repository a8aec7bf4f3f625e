import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import {
  emptyTotals,
  type ShardVerification,
  type ShardVerifyProgress,
  type VerificationReport,
  type VerifyJobData,
  type VerifySettings,
} from '@shardbridge/plan';
import { clusterSeedsOf, knownNatMapOf, shardJobData } from '../plan-submission.js';
import type { PlanStore, StoredPlan } from '../plan-store.js';
import type { PlanLocks } from './plan-locks.js';

export interface VerificationRunnerOptions {
  queue: Queue<VerifyJobData>;
  store: PlanStore;
  locks: PlanLocks;
  logger: Logger;
  /** how often job states are read while waiting. @defaultValue 500 */
  pollMs?: number;
}

/**
 * Runs a verification of a plan: one job per shard on the verify queue (the shard's current job data, so the
 * worker reaches the source node and the target exactly as the sync does), waits for every answer and stores the
 * assembled report with the plan.
 */
export class VerificationRunner {
  constructor(private readonly options: VerificationRunnerOptions) {}

  /** Starts a verification in the background (409 while the plan has one or a cutover running); returns its first report. */
  start(plan: StoredPlan, settings: VerifySettings, timeoutMs: number): Promise<VerificationReport> {
    const release = this.options.locks.acquire(plan.id, 'verification');
    return this.begin(plan, settings).then(
      (report) => {
        void this.finish(plan, report, timeoutMs)
          .catch((error: Error) => this.options.logger.error({ err: error, planId: plan.id }, 'verification'))
          .finally(release);
        return report;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  }

  /** Runs a verification to its end (the caller holds the plan's lock: a cutover). */
  async run(plan: StoredPlan, settings: VerifySettings, timeoutMs: number): Promise<VerificationReport> {
    return this.finish(plan, await this.begin(plan, settings), timeoutMs);
  }

  private async begin(plan: StoredPlan, settings: VerifySettings): Promise<VerificationReport> {
    const runId = Array.from(
      randomBytes(10),
      (byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36],
    ).join('');
    const report: VerificationReport = {
      id: runId,
      planId: plan.id,
      settings,
      status: 'running',
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
      totals: { ...emptyTotals(), keysCompared: 0, targetKeysChecked: 0 },
      differences: [],
      truncated: false,
      shards: [],
    };
    await this.options.store.setReport(plan.id, 'verification', report);
    const clusterSeeds = clusterSeedsOf(plan.plan, plan.shards);
    const natMap = knownNatMapOf(plan.plan, plan.shards);
    await this.options.queue.addBulk(
      plan.shards.map((shard, index) => ({
        name: 'verify',
        data: { runId, settings, shard: shardJobData(plan.id, plan.plan, shard, clusterSeeds, natMap) },
        opts: { jobId: jobIdOf(runId, index), attempts: 1, removeOnComplete: false, removeOnFail: false },
      })),
    );
    this.options.logger.info(
      { planId: plan.id, verification: runId, level: settings.level },
      'verification started',
    );
    return report;
  }

  private async finish(
    plan: StoredPlan,
    report: VerificationReport,
    timeoutMs: number,
  ): Promise<VerificationReport> {
    const deadline = Date.now() + timeoutMs;
    const results = new Map<number, ShardVerification>();
    const failures: string[] = [];
    const pending = new Set(plan.shards.map((_, index) => index));
    let savedAt = Date.now();
    while (pending.size > 0 && Date.now() < deadline) {
      const progress: ShardVerifyProgress[] = [];
      for (const index of [...pending]) {
        const job = await this.options.queue.getJob(jobIdOf(report.id, index));
        if (job && job.finishedOn === undefined && typeof job.progress === 'object') {
          progress.push(job.progress as ShardVerifyProgress);
        }
        if (!job) {
          failures.push(`shard ${plan.shards[index].id}: its verification job disappeared from the queue`);
          pending.delete(index);
        } else if (job.finishedOn !== undefined) {
          if (job.failedReason) failures.push(`shard ${plan.shards[index].id}: ${job.failedReason}`);
          else results.set(index, job.returnvalue);
          pending.delete(index);
          await job.remove().catch(() => undefined);
        }
      }
      if (pending.size > 0 && Date.now() - savedAt >= 2000) {
        savedAt = Date.now();
        await this.options.store.setReport(plan.id, 'verification', {
          ...report,
          heartbeatAt: new Date().toISOString(),
          progress,
        });
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 500));
    }
    if (pending.size > 0) {
      const late = [...pending].map((index) => plan.shards[index].id);
      failures.push(
        `shards ${late.join(', ')} did not finish within ${Math.round(timeoutMs / 1000)} s: check that a worker ` +
          '(`shardbridge worker`) runs and takes jobs of the queue shardbridge-verify, or raise timeoutMs',
      );
      for (const index of pending) {
        await this.options.queue
          .getJob(jobIdOf(report.id, index))
          .then((job) => job?.remove())
          .catch(() => undefined); // an active job holds its lock: it finishes and is ignored
      }
    }
    const done = assemble(report, [...results.values()], failures);
    await this.options.store.setReport(plan.id, 'verification', done);
    this.options.logger.info(
      { planId: plan.id, verification: report.id, status: done.status, totals: done.totals },
      'verification finished',
    );
    return done;
  }
}

function jobIdOf(runId: string, index: number): string {
  return `verify-${runId}-${index}`;
}

/** The plan's report from the shards' results; `failures` are shards that gave none. */
export function assemble(
  report: VerificationReport,
  shards: ShardVerification[],
  failures: string[],
): VerificationReport {
  const totals = { ...emptyTotals(), keysCompared: 0, targetKeysChecked: 0 };
  const differences = [];
  const errors = [...failures];
  shards.sort((a, b) => a.shardId.localeCompare(b.shardId, 'en', { numeric: true }));
  for (const shard of shards) {
    totals.keysCompared += shard.keysCompared;
    totals.targetKeysChecked += shard.targetKeysChecked;
    for (const kind of ['missing', 'extra', 'type', 'value', 'ttl'] as const)
      totals[kind] += shard.totals[kind];
    differences.push(...shard.differences);
    if (shard.error) errors.push(shard.error.message);
  }
  const differenceCount = totals.missing + totals.extra + totals.type + totals.value + totals.ttl;
  const listed = differences.slice(0, report.settings.maxDifferences);
  const countsDiffer = shards.some((shard) => shard.status === 'differences');
  const { heartbeatAt: _heartbeat, ...base } = report;
  return {
    ...base,
    status: errors.length > 0 ? 'failed' : differenceCount > 0 || countsDiffer ? 'differences' : 'clean',
    ...(errors.length > 0 ? { reason: errors.join('; ') } : {}),
    finishedAt: new Date().toISOString(),
    totals,
    differences: listed,
    truncated: differenceCount > listed.length,
    shards: shards.map(({ differences: _listed, ...rest }) => rest),
  };
}
