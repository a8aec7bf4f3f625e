import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Plan, PlanCaps, PreflightReport, ShardJobData, ShardRecord } from '@shardbridge/plan';
import {
  ConflictError,
  NotFoundError,
  PreflightFailedError,
  RequestInvalidError,
} from './errors/public-error.js';
import { clusterSeedsOf, knownNatMapOf, shardJobData } from './plan-submission.js';
import {
  PlanCutOverError,
  PlanNameTakenError,
  type PlanStore,
  type RolloutState,
  type StoredPlan,
} from './plan-store.js';
import { shardsFromReport, type RunPreflight } from './preflight.js';
import type { DiscoverShards } from './shard-discovery.js';
import type { TopologyChange } from './topology-diff.js';
import { shardStatus, type ShardJob, type ShardJobState, type ShardStatus } from './shard-status.js';

export interface PlanServiceOptions {
  queue: Queue<ShardJobData>;
  store: PlanStore;
  discover: DiscoverShards;
  preflight: RunPreflight;
  logger: Logger;
  /** per-source-node connect timeout of discovery */
  connectTimeoutMs: number;
  /** BullMQ `attempts` of each shard job */
  jobAttempts: number;
}

/** What `create` does about a stored plan that already holds the name. */
export interface CreateOptions {
  /**
   * `true`: stop and delete the stored plan of the same name (its jobs, controls and checkpoints; 409 PLAN_RUNNING
   * while one of its shards still runs) and store the new one in its place: an explicit re-plan, whose shards start
   * with a full sync. `false`: 409 PLAN_NAME_IN_USE naming the stored plan. @defaultValue false
   */
  replace?: boolean;
}

export interface PlanWithShards {
  plan: StoredPlan;
  shards: ShardStatus[];
}

const PLAN_ID = /^[a-z0-9]{1,32}$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 12 characters of [a-z0-9]: no ':' (BullMQ job ids) and no '-' (the shard id separator). */
function newPlanId(): string {
  return Array.from(randomBytes(12), (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

const RETRYABLE: ReadonlySet<ShardJobState> = new Set(['completed', 'failed']);

/**
 * Preflight problems that `force` does not override: what the servers showed makes the sync fail for certain (a db
 * a cluster target cannot hold) or breaks the plan's own rule (`fail-if-not-empty`).
 */
const UNFORCEABLE: ReadonlySet<string> = new Set(['TARGET_DB_UNSUPPORTED', 'TARGET_NOT_EMPTY']);

/** What the HTTP routes do, in terms of the plan store and the shard queue. */
export class PlanService {
  constructor(private readonly options: PlanServiceOptions) {}

  /** Preflight of a plan: checks only, nothing stored or queued. The report holds no secret. */
  async preflight(plan: Plan): Promise<PreflightReport> {
    return this.options.preflight(plan, { connectTimeoutMs: this.options.connectTimeoutMs });
  }

  /**
   * Preflights the plan (422 PREFLIGHT_FAILED unless `force`; always for a source db a cluster target cannot
   * hold, and for a non-empty target under `fail-if-not-empty`), takes its shards from the report (or discovers
   * them when the report cannot vouch for them), stores the plan and enqueues one job per shard — only the
   * canaries when the plan has a rollout. Nothing is stored on failure.
   */
  async create(plan: Plan, options: CreateOptions = {}): Promise<StoredPlan> {
    const { store, discover, connectTimeoutMs } = this.options;
    const holder = await store.findByName(plan.name);
    if (holder && !options.replace) throw nameInUse(plan.name, holder);
    const report = await this.preflight(plan);
    const certain = report.problems.filter((problem) => UNFORCEABLE.has(problem.code));
    if (certain.length > 0) throw new PreflightFailedError(certain);
    if (!report.ok && plan.force !== true) throw new PreflightFailedError(report.problems);
    const discovered = shardsFromReport(report) ?? (await discover(plan.source, { connectTimeoutMs }));
    const id = newPlanId();
    const shards: ShardRecord[] = discovered.map((shard, index) => ({
      id: `${id}-${index}`,
      nodeId: shard.nodeId,
      slots: shard.slots,
      announced: shard.announced,
      reachable: shard.reachable,
      jobId: `${id}-${index}`,
      ...(shard.replicaAddresses?.length ? { replicaAddresses: shard.replicaAddresses } : {}),
    }));
    const createdAt = Date.now();
    const rollout: RolloutState | undefined = plan.rollout
      ? {
          stage: plan.rollout.canary >= shards.length ? 'complete' : 'canary',
          since: createdAt,
          canaryShards: shards.slice(0, plan.rollout.canary).map((shard) => shard.id),
        }
      : undefined;
    const record: StoredPlan = {
      id,
      plan,
      createdAt,
      state: 'active',
      shards,
      ...(rollout ? { rollout } : {}),
    };
    if (holder) {
      await this.delete(holder);
      this.options.logger.info({ planId: holder.id, name: plan.name, by: id }, 'plan replaced');
    }
    try {
      await store.create(record);
    } catch (error) {
      if (!(error instanceof PlanNameTakenError)) throw error;
      // Another submission of the same name was stored between the check above and now.
      throw nameInUse(plan.name, (await store.get(error.holderId)) ?? error.holderId);
    }
    await this.enqueueAll(record, rollout?.stage === 'canary' ? this.canaries(record) : shards);
    this.options.logger.info(
      { planId: id, name: plan.name, shards: shards.length, rollout: rollout?.stage },
      'plan created',
    );
    return record;
  }

  /** Ends a canary rollout: queues every shard not queued yet and marks the rollout complete. */
  async completeRollout(plan: StoredPlan): Promise<void> {
    if (plan.rollout?.stage !== 'canary' || plan.state === 'cut-over') return;
    const canaries = new Set(plan.rollout.canaryShards);
    await this.enqueueAll(
      plan,
      plan.shards.filter((shard) => !canaries.has(shard.id)),
    );
    const rollout: RolloutState = { ...plan.rollout, stage: 'complete', since: Date.now() };
    await this.options.store.setRollout(plan.id, rollout);
    plan.rollout = rollout;
    this.options.logger.info({ planId: plan.id }, 'canary rollout complete: remaining shards queued');
  }

  /**
   * Stores what the topology watcher found (records, events), queues a job for each added shard (flagged
   * `addedByReplan`, whatever the rollout stage: its slots are replicated by no one else) and updates the data of
   * the jobs whose records changed, so a worker that takes one later starts from the current slots and master.
   */
  async applyTopology(plan: StoredPlan, change: TopologyChange): Promise<void> {
    plan.topologyEvents = await this.options.store.setTopology(
      plan,
      change.shards,
      change.events,
      change.added,
    );
    plan.shards = change.shards;
    if (plan.state !== 'cut-over') await this.enqueueAll(plan, change.added);
    for (const shard of change.updated) {
      const job = await this.options.queue.getJob(shard.jobId);
      if (!job) continue;
      const data = job.data;
      await job
        .updateData({
          ...data,
          slots: shard.slots,
          nodeId: shard.nodeId,
          announced: shard.announced,
          reachable: shard.reachable,
        })
        .catch((error: Error) =>
          this.options.logger.warn({ err: error, jobId: shard.jobId }, 'shard job data not updated'),
        );
    }
  }

  /** The shards queued so far: all of them unless a canary rollout is pending. */
  private released(plan: StoredPlan): ShardRecord[] {
    return plan.rollout?.stage === 'canary' ? this.canaries(plan) : plan.shards;
  }

  private canaries(plan: StoredPlan): ShardRecord[] {
    const canaries = new Set(plan.rollout?.canaryShards ?? []);
    return plan.shards.filter((shard) => canaries.has(shard.id));
  }

  /**
   * Adds the shards' jobs; a job id already present is left as it is (BullMQ dedupes on jobId). A shard the
   * topology watcher added is flagged `addedByReplan` (its worker waits for the others before its first snapshot).
   */
  private async enqueueAll(plan: StoredPlan, shards: ShardRecord[]): Promise<void> {
    if (shards.length === 0) return;
    refuseCutOver(plan, 'queued');
    const clusterSeeds = clusterSeedsOf(plan.plan, plan.shards);
    const natMap = knownNatMapOf(plan.plan, plan.shards);
    await this.options.queue.addBulk(
      shards.map((shard) => ({
        name: 'shard',
        data: {
          ...shardJobData(plan.id, plan.plan, shard, clusterSeeds, natMap),
          ...(shard.addedAt === undefined ? {} : { addedByReplan: true }),
        },
        opts: this.jobOptions(shard),
      })),
    );
  }

  private jobOptions(shard: ShardRecord) {
    return {
      jobId: shard.jobId,
      attempts: this.options.jobAttempts,
      removeOnComplete: false,
      removeOnFail: false,
    };
  }

  /** The plan or a 404. Ids that cannot be plan ids never reach Redis. */
  async get(planId: string): Promise<StoredPlan> {
    const plan = PLAN_ID.test(planId) ? await this.options.store.get(planId) : null;
    if (!plan) throw new NotFoundError('PLAN_NOT_FOUND', `no plan with id "${planId}"`);
    return plan;
  }

  async list(): Promise<StoredPlan[]> {
    return this.options.store.list();
  }

  /**
   * The state to show: the stored one, except that an active `mode: "full"` plan whose every shard completed its
   * full sync is `completed` (nothing will run again unless it is resumed).
   */
  shownState(plan: StoredPlan, shards: ShardStatus[]): StoredPlan['state'] | 'completed' {
    if (
      plan.state === 'active' &&
      plan.plan.mode === 'full' &&
      shards.length > 0 &&
      shards.every((shard) => shard.phase === 'completed')
    )
      return 'completed';
    return plan.state;
  }

  async status(plan: StoredPlan): Promise<ShardStatus[]> {
    return Promise.all(
      plan.shards.map(async (shard) => {
        const { job, state } = await this.jobOf(shard);
        return shardStatus(shard, job, state);
      }),
    );
  }

  /**
   * Tells every shard to stop. Waiting jobs stay queued: a worker completes a job whose control is `stop` at once.
   * A cut-over plan stays `cut-over` (its shards are told to stop again, harmlessly). Returns the plan's state.
   */
  async stop(plan: StoredPlan): Promise<StoredPlan['state']> {
    await this.options.store.setControl(
      plan.id,
      plan.shards.map((shard) => shard.id),
      'stop',
    );
    if (plan.state === 'cut-over') return 'cut-over';
    try {
      await this.options.store.setState(plan.id, 'stopped');
    } catch (error) {
      if (error instanceof PlanCutOverError) return 'cut-over';
      throw error;
    }
    return 'stopped';
  }

  /**
   * Tells every shard to run and re-queues the ones whose job has finished (stopped or failed). 409 PLAN_CUT_OVER
   * for a cut-over plan: nothing is changed.
   */
  async resume(plan: StoredPlan): Promise<void> {
    refuseCutOver(plan, 'resumed');
    await this.guardCutOver(plan, 'resumed', () =>
      this.options.store.setControl(
        plan.id,
        plan.shards.map((shard) => shard.id),
        'run',
      ),
    );
    const released = new Set(this.released(plan));
    for (const shard of plan.shards) {
      const { job, state } = await this.jobOf(shard);
      if (!job) {
        if (released.has(shard)) await this.enqueue(plan, shard);
      } else if (RETRYABLE.has(state)) await this.requeue(job, state as 'completed' | 'failed');
    }
    await this.guardCutOver(plan, 'resumed', () => this.options.store.setState(plan.id, 'active'));
  }

  /** Re-queues one finished shard; 409 while its job waits or runs, and for a cut-over plan (PLAN_CUT_OVER). */
  async retryShard(plan: StoredPlan, shardRef: string): Promise<ShardRecord> {
    refuseCutOver(plan, 'retried');
    const shard = plan.shards.find(
      (candidate) => candidate.id === shardRef || candidate.id === `${plan.id}-${shardRef}`,
    );
    if (!shard) throw new NotFoundError('SHARD_NOT_FOUND', `plan "${plan.id}" has no shard "${shardRef}"`);
    const { job, state } = await this.jobOf(shard);
    if (job && !RETRYABLE.has(state)) {
      throw new ConflictError(
        'SHARD_NOT_FINISHED',
        `shard ${shard.id} is ${state}; only a failed or stopped shard can be retried`,
      );
    }
    if (!job && !this.released(plan).includes(shard)) {
      throw new ConflictError(
        'ROLLOUT_PENDING',
        `shard ${shard.id} waits for the canary rollout; it is queued once the canaries are healthy`,
      );
    }
    await this.guardCutOver(plan, 'retried', () => this.options.store.setControl(plan.id, [shard.id], 'run'));
    if (job) await this.requeue(job, state as 'completed' | 'failed');
    else await this.enqueue(plan, shard);
    await this.guardCutOver(plan, 'retried', () => this.options.store.setState(plan.id, 'active'));
    return shard;
  }

  /** Runs a store change that the store refuses for a cut-over plan, answering that refusal with 409 PLAN_CUT_OVER. */
  private async guardCutOver(plan: StoredPlan, verb: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (error instanceof PlanCutOverError) refuseCutOver({ ...plan, state: 'cut-over' }, verb);
      throw error;
    }
  }

  /** The plan's rate caps in force (`{}` when none). */
  async caps(plan: StoredPlan): Promise<PlanCaps> {
    return this.options.store.getCaps(plan.id);
  }

  /**
   * Replaces the plan's rate caps; running workers apply them without a resync. A `perShard` entry must name a
   * shard of the plan (400 PLAN_CAPS_SHARD_UNKNOWN).
   */
  async setCaps(plan: StoredPlan, caps: PlanCaps): Promise<PlanCaps> {
    const known = new Set(plan.shards.map((shard) => shard.id));
    const unknown = Object.keys(caps.perShard ?? {}).filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new RequestInvalidError(
        'PLAN_CAPS_SHARD_UNKNOWN',
        `plan ${plan.id} has no shard ${unknown.join(', ')} (its shards: ${[...known].join(', ')}); ` +
          `list them with shardbridge status ${plan.id}`,
        unknown.map((id) => ({ field: `perShard.${id}`, reason: 'not a shard of this plan' })),
      );
    }
    await this.options.store.setCaps(plan.id, caps, [...known]);
    this.options.logger.info({ planId: plan.id, caps }, 'rate caps changed');
    return caps;
  }

  /**
   * Stops the plan's shards and, when none is running, removes its jobs, controls, checkpoints and the plan itself.
   * A running shard answers 409: its worker has been told to stop, and the client deletes again once it has.
   */
  async delete(plan: StoredPlan): Promise<void> {
    await this.stop(plan);
    const jobs = await Promise.all(plan.shards.map((shard) => this.jobOf(shard)));
    const running: ShardRecord[] = [];
    for (const [index, { job }] of jobs.entries()) {
      if (!job) continue;
      try {
        // BullMQ refuses to remove a job whose lock a worker holds. An `active` job without a lock is one whose
        // worker died (kill -9) and is removable: only a live worker's job counts as running.
        await job.remove();
      } catch (error) {
        this.options.logger.info({ err: error, jobId: job.id }, 'shard job not removable');
        running.push(plan.shards[index]);
      }
    }
    if (running.length > 0) throw this.stillRunning(running);
    await this.options.store.delete(plan);
    this.options.logger.info({ planId: plan.id }, 'plan deleted');
  }

  private stillRunning(shards: ShardRecord[]): ConflictError {
    return new ConflictError(
      'PLAN_RUNNING',
      `shards ${shards.map((shard) => shard.id).join(', ')} are still running; they have been told to stop, ` +
        'delete again once they are stopped',
    );
  }

  /** The shard's job and its BullMQ state (`missing` when there is none). */
  async jobOf(shard: ShardRecord): Promise<{ job: ShardJob | undefined; state: ShardJobState }> {
    // State first, then the job: a job that fails in between then shows its (newer) failure data with the older
    // state, never a `failed` state without the failure's reason.
    const state = await this.options.queue.getJobState(shard.jobId);
    if (state === 'unknown') return { job: undefined, state: 'missing' };
    const job = (await this.options.queue.getJob(shard.jobId)) as ShardJob | undefined;
    if (!job) return { job: undefined, state: 'missing' };
    return { job, state: state as ShardJobState };
  }

  private async requeue(job: ShardJob, state: 'completed' | 'failed'): Promise<void> {
    // A fresh attempts budget: the retry is a decision of the operator, not the automatic one already spent.
    await job.retry(state, { resetAttemptsMade: true });
  }

  private async enqueue(plan: StoredPlan, shard: ShardRecord): Promise<void> {
    await this.enqueueAll(plan, [shard]);
  }
}

/** 409 PLAN_CUT_OVER for a plan that was cut over: nothing of it may run again. */
function refuseCutOver(plan: StoredPlan, verb: string): void {
  if (plan.state !== 'cut-over') return;
  throw new ConflictError(
    'PLAN_CUT_OVER',
    `plan ${plan.id} (${plan.plan.name}) was cut over: the target is the primary now, and a shard ${verb} would ` +
      "overwrite its newer writes with the source's; a cut-over plan is final. To sync again from the source, " +
      `start a new plan: shardbridge submit --replace <plan file> (this deletes plan ${plan.id} and its checkpoints)`,
  );
}

/** 409 PLAN_NAME_IN_USE: the name belongs to a stored plan (or to a plan id whose record is already gone). */
function nameInUse(name: string, holder: StoredPlan | string): ConflictError {
  if (typeof holder === 'string') {
    return new ConflictError(
      'PLAN_NAME_IN_USE',
      `plan name "${name}" was just taken by plan ${holder}; submit again to see its state`,
    );
  }
  const how =
    holder.state === 'cut-over'
      ? 'keep it (it was cut over and is final)'
      : holder.state === 'stopped'
        ? `resume it (shardbridge resume ${holder.id})`
        : `keep it (it is syncing: shardbridge status ${holder.id})`;
  return new ConflictError(
    'PLAN_NAME_IN_USE',
    `plan name "${name}" is already used by plan ${holder.id} (${holder.state}): two plans of one name would sync ` +
      `the same data twice. Either ${how}, or re-plan from this file with shardbridge submit --replace (deletes ` +
      `plan ${holder.id}, its jobs and checkpoints; the new plan starts with a full sync), or give the plan another name`,
  );
}
