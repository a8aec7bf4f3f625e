import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DEFAULT_VERIFY_SETTINGS } from '@shardbridge/plan';
import { ConflictError } from '../errors/public-error.js';
import type { PlanService } from '../plan-service.js';
import type { PlanStore, StoredPlan } from '../plan-store.js';
import type { PlanLocks } from '../verification/plan-locks.js';
import type { VerificationRunner } from '../verification/verification-runner.js';
import type { CutoverReport, CutoverStatus } from './cutover-report.js';
import type { CutoverRequest } from './cutover-settings.js';
import { SourceMasters } from './source-masters.js';

export interface CutoverRunnerOptions {
  plans: PlanService;
  store: PlanStore;
  verification: VerificationRunner;
  locks: PlanLocks;
  logger: Logger;
  /** how often offsets and shard states are read while waiting. @defaultValue 500 */
  pollMs?: number;
  /**
   * Lifetime of each CLIENT PAUSE, renewed every third of it while the cutover runs: a coordinator that dies
   * mid-cutover leaves the source paused for at most this long.
   * @defaultValue 30000
   */
  pauseMs?: number;
}

/** A step that did not reach its goal; the message is the report's `reason`. */
class CutoverFailure extends Error {
  override name = 'CutoverFailure';
}

type Step = CutoverReport['steps'][number]['step'];

/** How often a cutover in progress refreshes its stored report (see `heartbeatAt`). */
export const HEARTBEAT_MS = 5000;

/** Job states of a shard that has not stopped yet (a waiting job completes at once once a worker takes it). */
const STILL_RUNNING: ReadonlySet<string> = new Set(['active', 'waiting', 'delayed', 'prioritized']);

/**
 * The cutover of a plan as one call: writes stopped (CLIENT PAUSE WRITE, or the operator's word), every shard caught
 * up to its master's offset, a full verification, every shard job stopped, a report stored and the plan marked
 * `cut-over`. Every wait has a timeout with a reason. A failure at any step leaves the sync running (unless the stop
 * itself timed out) and the source unpaused: the pause is lifted in every outcome.
 */
export class CutoverRunner {
  private readonly confirmations = new Map<string, () => void>();

  constructor(private readonly options: CutoverRunnerOptions) {}

  /** Starts the cutover in the background; returns its first report. 409 when it cannot start. */
  async start(plan: StoredPlan, request: CutoverRequest): Promise<CutoverReport> {
    if (plan.state === 'cut-over') {
      throw new ConflictError(
        'PLAN_CUT_OVER',
        `plan "${plan.id}" is already cut over; see \`shardbridge cutover ${plan.id} --result\` ` +
          `(GET /v1/plans/${plan.id}/cutover)`,
      );
    }
    if (plan.state === 'stopped') {
      throw new ConflictError(
        'PLAN_STOPPED',
        `plan "${plan.id}" is stopped: its shards do not sync, so the target cannot catch up; resume it first`,
      );
    }
    if (plan.rollout?.stage === 'canary') {
      throw new ConflictError(
        'ROLLOUT_PENDING',
        `plan "${plan.id}" still runs its canary rollout: the other shards are not syncing yet; cut over once it is complete`,
      );
    }
    const release = this.options.locks.acquire(plan.id, 'cutover');
    const report: CutoverReport = {
      id: Array.from(randomBytes(10), (byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join(''),
      planId: plan.id,
      status: 'catching-up',
      startedAt: new Date().toISOString(),
      steps: [],
      shards: [],
      warnings: [],
    };
    try {
      await this.options.store.setReport(plan.id, 'cutover', report);
    } catch (error) {
      release();
      throw error;
    }
    void this.execute(plan, request, report)
      .catch((error: Error) => this.options.logger.error({ err: error, planId: plan.id }, 'cutover'))
      .finally(release);
    return { ...report };
  }

  /** The operator confirms that writes to the source stopped. False when no cutover of the plan waits for it. */
  confirm(planId: string): boolean {
    const resolve = this.confirmations.get(planId);
    if (!resolve) return false;
    resolve();
    return true;
  }

  private async execute(plan: StoredPlan, request: CutoverRequest, report: CutoverReport): Promise<void> {
    const { logger, store } = this.options;
    const pauseMs = this.options.pauseMs ?? 30_000;
    let masters: SourceMasters | null = null;
    let renewal: NodeJS.Timeout | null = null;
    let paused = false;
    /** why a renewal of the pause failed: writes may have reached the source since */
    let pauseLost: string | undefined;
    const pauseHeld = () => {
      if (pauseLost) {
        throw new CutoverFailure(
          `the pause of the source could not be renewed (${pauseLost}): writes may have reached the source after ` +
            'the catch-up, so the verification proves nothing; cut over again',
        );
      }
    };
    const save = () => {
      report.heartbeatAt = new Date().toISOString();
      return store.setReport(plan.id, 'cutover', report);
    };
    // Long waits (catch-up, verification) store nothing new: the heartbeat says the run is alive.
    const heartbeat = setInterval(() => void save().catch(() => undefined), HEARTBEAT_MS);
    const step = async (name: Step) => {
      const now = new Date().toISOString();
      const last = report.steps.at(-1);
      if (last && !last.finishedAt) last.finishedAt = now;
      report.steps.push({ step: name, startedAt: now });
      report.status = name;
      logger.info({ planId: plan.id, cutover: report.id, step: name }, 'cutover step');
      await save();
    };
    try {
      masters = await SourceMasters.open(plan.plan, plan.shards).catch((error: Error) => {
        throw new CutoverFailure(error.message);
      });
      if (request.pauseSource) {
        await step('pausing');
        const refused = await masters.pause(pauseMs);
        if (refused) {
          report.warnings.push(
            `${refused}; waiting for the operator's confirmation that writes stopped instead`,
          );
        } else {
          paused = true;
          report.writesStoppedBy = 'client-pause';
          const current = masters;
          renewal = setInterval(() => {
            void current.pause(pauseMs).then((problem) => {
              if (problem) pauseLost ??= problem;
            });
          }, pauseMs / 3);
        }
      }
      if (!paused) {
        report.writesStoppedBy = 'operator';
        if (!request.writesStopped) {
          await step('waiting-for-confirmation');
          await this.waitForConfirmation(plan.id, request.confirmTimeoutMs ?? 900_000);
        }
      }
      await step('catching-up');
      await this.catchUp(plan, masters, report, request.catchUpTimeoutMs ?? 300_000);
      pauseHeld();
      await step('verifying');
      const verification = await this.options.verification.run(
        plan,
        { ...DEFAULT_VERIFY_SETTINGS, ...request.verify, level: 'full' },
        request.verifyTimeoutMs ?? 3_600_000,
      );
      report.keys = verification.totals.keysCompared;
      report.verification = { id: verification.id, status: verification.status, totals: verification.totals };
      if (verification.status !== 'clean') {
        const { missing, extra, type, value, ttl } = verification.totals;
        throw new CutoverFailure(
          verification.status === 'failed'
            ? `verification could not complete (${verification.reason}); the sync keeps running`
            : `verification found differences (missing ${missing}, extra ${extra}, type ${type}, value ${value}, ` +
                `ttl ${ttl}); the sync keeps running — see \`shardbridge verify ${plan.id} --result\` ` +
                `(GET /v1/plans/${plan.id}/verification)`,
        );
      }
      pauseHeld();
      await step('stopping');
      await this.options.plans.stop(plan);
      await this.waitStopped(plan, request.stopTimeoutMs ?? 120_000);
      if (pauseLost) {
        throw new CutoverFailure(
          `the pause of the source lapsed while the shards stopped (${pauseLost}): writes made since may be missing ` +
            `on the target; resume the plan (\`shardbridge resume ${plan.id}\`, POST …/resume), let it catch up ` +
            'and cut over again',
        );
      }
      await store.setState(plan.id, 'cut-over');
      // A resume or retry that raced in between the stop and the state above told shards to run: the state is
      // final now (the store refuses `run` from here on), so this stop is the last word.
      await store.setControl(
        plan.id,
        plan.shards.map((shard) => shard.id),
        'stop',
      );
      report.status = 'cut-over';
    } catch (error) {
      report.status = 'failed';
      report.reason =
        error instanceof CutoverFailure
          ? `${report.steps.at(-1)?.step ?? 'start'}: ${error.message}`
          : `${report.steps.at(-1)?.step ?? 'start'}: unexpected error (${(error as Error).message})`;
    } finally {
      this.confirmations.delete(plan.id);
      if (renewal) clearInterval(renewal);
      if (paused && masters) {
        const failed = await masters.unpause();
        for (const problem of failed) {
          report.warnings.push(`CLIENT UNPAUSE failed on ${problem}; the pause expires within ${pauseMs} ms`);
        }
      }
      masters?.close();
      const now = new Date().toISOString();
      const last = report.steps.at(-1);
      if (last && !last.finishedAt) last.finishedAt = now;
      report.finishedAt = now;
      clearInterval(heartbeat);
      delete report.heartbeatAt;
      await store.setReport(plan.id, 'cutover', report);
      logger.info(
        { planId: plan.id, cutover: report.id, status: report.status, reason: report.reason },
        'cutover ended',
      );
    }
  }

  private waitForConfirmation(planId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.confirmations.delete(planId);
        reject(
          new CutoverFailure(
            `no confirmation that writes to the source stopped within ${Math.round(timeoutMs / 1000)} s ` +
              `(POST /v1/plans/${planId}/cutover/confirm or \`shardbridge cutover ${planId} --confirm\`)`,
          ),
        );
      }, timeoutMs);
      this.confirmations.set(planId, () => {
        clearTimeout(timer);
        this.confirmations.delete(planId);
        resolve();
      });
    });
  }

  /** Until every shard's acknowledged offset reaches its master's `master_repl_offset` read just before. */
  private async catchUp(
    plan: StoredPlan,
    masters: SourceMasters,
    report: CutoverReport,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const scan = plan.plan.mode === 'scan';
    const oneShot = plan.plan.mode === 'full';
    for (;;) {
      const offsets = await masters.offsets().catch((error: Error) => {
        throw new CutoverFailure(error.message);
      });
      const shards = await this.options.plans.status(plan);
      // A one-shot sync (`mode: "full"`) is done once it completed; any other finished job no longer syncs.
      const broken = shards.find(
        (shard) =>
          shard.phase === 'failed' ||
          (shard.jobState === 'completed' && !(oneShot && shard.phase === 'completed')),
      );
      if (broken) {
        throw new CutoverFailure(
          `shard ${broken.id} is ${broken.phase}${broken.lastError ? ` (${broken.lastError.message})` : ''}: ` +
            `it must sync for the target to catch up; retry it (\`shardbridge retry ${plan.id} ${broken.id}\`, ` +
            `POST /v1/plans/${plan.id}/shards/${broken.id}/retry) ` +
            'and cut over again',
        );
      }
      report.shards = shards.map((shard) => ({
        shardId: shard.id,
        masterOffset: offsets.get(shard.id) ?? -1,
        acknowledgedOffset: shard.acknowledgedOffset,
        keysWritten: shard.keysWritten,
      }));
      const lagging = shards.filter((shard) =>
        oneShot
          ? shard.phase !== 'completed'
          : scan
            ? shard.phase !== 'incremental' || (shard.scan?.dirtyKeys ?? 0) > 0
            : shard.acknowledgedOffset < (offsets.get(shard.id) ?? Infinity),
      );
      if (lagging.length === 0) return;
      if (Date.now() > deadline) {
        const detail = lagging
          .map(
            (shard) =>
              `${shard.id} ${shard.phase}, lag ${(offsets.get(shard.id) ?? 0) - shard.acknowledgedOffset} bytes`,
          )
          .join('; ');
        throw new CutoverFailure(
          `shards did not catch up within ${Math.round(timeoutMs / 1000)} s (${detail}): writes may still reach the ` +
            'source (pause it or stop the clients) or the workers are too slow; the sync keeps running',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 500));
    }
  }

  private async waitStopped(plan: StoredPlan, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const shards = await this.options.plans.status(plan);
      const running = shards.filter((shard) => STILL_RUNNING.has(shard.jobState));
      if (running.length === 0) return;
      if (Date.now() > deadline) {
        throw new CutoverFailure(
          `shards ${running.map((shard) => shard.id).join(', ')} did not stop within ${Math.round(timeoutMs / 1000)} s; ` +
            'the plan is stopped (their workers were told), the target is verified: check the workers’ logs',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 500));
    }
  }
}

export type { CutoverStatus };
