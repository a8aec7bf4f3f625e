import type { Redis } from 'ioredis';
import {
  keys,
  parseStoredCaps,
  type Plan,
  type PlanCaps,
  type ShardRecord,
  type TopologyEvent,
} from '@shardbridge/plan';

/** Topology events kept per plan (the oldest go first). */
export const MAX_TOPOLOGY_EVENTS = 200;

/**
 * Desired state of a whole plan, as the API last set it. `cut-over`: a cutover verified the target and stopped every
 * shard. It is final: the target is the primary from then on, and a restarted shard would overwrite its newer writes
 * with the source's, so the store itself refuses to leave it (see `setState`, `setControl`).
 */
export type PlanState = 'active' | 'stopped' | 'cut-over';

/** The store refused a change because the plan is cut over (raced with a cutover that finished meanwhile). */
export class PlanCutOverError extends Error {
  override name = 'PlanCutOverError';
  readonly code = 'PLAN_CUT_OVER';
  constructor(readonly planId: string) {
    super(`plan "${planId}" is cut over`);
  }
}

/** Another plan holds the name (found atomically when storing a new plan). */
export class PlanNameTakenError extends Error {
  override name = 'PlanNameTakenError';
  readonly code = 'PLAN_NAME_IN_USE';
  constructor(
    readonly planName: string,
    readonly holderId: string,
  ) {
    super(`plan name "${planName}" is held by plan ${holderId}`);
  }
}

/**
 * KEYS[1] plan hash, ARGV[1] new state. A cut-over plan keeps its state whatever is asked, except `cut-over`
 * itself. Returns 1 when set, 0 when refused, -1 when the plan does not exist.
 */
const SET_STATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'state') == 'cut-over' and ARGV[1] ~= 'cut-over' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
return 1`;

/**
 * KEYS[1] plan hash, KEYS[2] control channel, KEYS[3..] control keys; ARGV[1] control, ARGV[2..] shard ids (same
 * order as the keys). Sets every control key and then publishes each shard id, in one step. `run` is refused
 * (returns 0, nothing set) once the plan is cut over; returns 1 otherwise.
 */
const SET_CONTROL_SCRIPT = `
if ARGV[1] == 'run' and redis.call('HGET', KEYS[1], 'state') == 'cut-over' then return 0 end
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end
for i = 2, #ARGV do redis.call('PUBLISH', KEYS[2], ARGV[i]) end
return 1`;

/**
 * KEYS[1] name key, KEYS[2] plans sorted set; ARGV[1] new plan id. Claims the name for the new plan unless a plan
 * that still exists holds it (a name key left by a plan stored before the index existed, or half deleted, is taken
 * over). Returns the holder's id when refused, '' when claimed.
 */
const CLAIM_NAME_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('ZSCORE', KEYS[2], holder) then return holder end
redis.call('SET', KEYS[1], ARGV[1])
return ''`;

/** Reports stored with a plan (one JSON field of the plan hash each, the latest only). */
export type PlanReportField = 'verification' | 'cutover';

/**
 * Where a canary rollout stands: `canary` while only `canaryShards` are queued, `complete` once the rest were.
 * `since` is the unix ms the stage began.
 */
export interface RolloutState {
  stage: 'canary' | 'complete';
  since: number;
  canaryShards: string[];
}

export interface StoredPlan {
  id: string;
  /** validated plan; secrets are references only */
  plan: Plan;
  /** unix ms */
  createdAt: number;
  state: PlanState;
  shards: ShardRecord[];
  /** present when the plan has a `rollout` option */
  rollout?: RolloutState;
  /** resharding the topology watcher saw, oldest first (at most MAX_TOPOLOGY_EVENTS); absent when none */
  topologyEvents?: TopologyEvent[];
}

/** Desired state of one shard, read by the worker that owns (or takes) its job. */
export type ShardControl = 'run' | 'stop';

/**
 * Plans and shard controls in the queue's Redis (layout in `keys` of @shardbridge/plan). The queue's Redis is the
 * only state: a restarted coordinator reads everything back from here.
 */
export class PlanStore {
  constructor(private readonly redis: Redis) {}

  /**
   * Stores a new plan and sets every shard's control to `run`, atomically, after claiming its name: throws
   * PlanNameTakenError when another stored plan holds the name in the index (one plan per name, so the same name
   * can never sync twice at once).
   */
  async create(record: StoredPlan): Promise<void> {
    // The caller has looked the name up (findByName, which also finds plans stored before the index); the claim
    // below is what makes it atomic.
    const refusedBy = (await this.redis.eval(
      CLAIM_NAME_SCRIPT,
      2,
      keys.planName(record.plan.name),
      keys.plans(),
      record.id,
    )) as string;
    if (refusedBy !== '') throw new PlanNameTakenError(record.plan.name, refusedBy);
    const multi = this.redis.multi();
    multi.hset(keys.plan(record.id), {
      plan: JSON.stringify(record.plan),
      createdAt: String(record.createdAt),
      state: record.state,
      shards: JSON.stringify(record.shards),
      ...(record.rollout ? { rollout: JSON.stringify(record.rollout) } : {}),
    });
    multi.zadd(keys.plans(), record.createdAt, record.id);
    if (record.plan.caps) multi.set(keys.caps(record.id), JSON.stringify(record.plan.caps));
    for (const shard of record.shards) multi.set(keys.control(shard.id), 'run');
    await multi.exec();
  }

  async get(planId: string): Promise<StoredPlan | null> {
    return decode(planId, await this.redis.hgetall(keys.plan(planId)));
  }

  /** Every plan, oldest first. */
  async list(): Promise<StoredPlan[]> {
    const ids = await this.redis.zrange(keys.plans(), 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.plan(id));
    const replies = (await pipeline.exec()) ?? [];
    const plans: StoredPlan[] = [];
    ids.forEach((id, index) => {
      const [error, fields] = replies[index] ?? [null, null];
      if (error) throw error;
      const plan = decode(id, fields as Record<string, string>);
      if (plan) plans.push(plan);
    });
    return plans;
  }

  /**
   * The plan stored under `name`, or null: through the name index, then (for plans stored before the index
   * existed) by scanning the plans.
   */
  async findByName(name: string): Promise<StoredPlan | null> {
    const id = await this.redis.get(keys.planName(name));
    const indexed = id === null ? null : await this.get(id);
    if (indexed && indexed.plan.name === name) return indexed;
    return (await this.list()).find((plan) => plan.plan.name === name) ?? null;
  }

  /**
   * Sets the plan's state. A cut-over plan stays cut over: any other state is refused with PlanCutOverError. A
   * plan that no longer exists is left absent.
   */
  async setState(planId: string, state: PlanState): Promise<void> {
    const result = (await this.redis.eval(SET_STATE_SCRIPT, 1, keys.plan(planId), state)) as number;
    if (result === 0) throw new PlanCutOverError(planId);
  }

  /** Stores the latest report of its kind (a verification or a cutover) with the plan; a deleted plan gets none. */
  async setReport(planId: string, field: PlanReportField, report: unknown): Promise<void> {
    // HSET on a deleted plan would recreate its hash with only this field: write only while the plan exists.
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
      1,
      keys.plan(planId),
      field,
      JSON.stringify(report),
    );
  }

  /** The latest report of its kind, or null. */
  async getReport<T>(planId: string, field: PlanReportField): Promise<T | null> {
    const raw = await this.redis.hget(keys.plan(planId), field);
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async setRollout(planId: string, rollout: RolloutState): Promise<void> {
    await this.redis.hset(keys.plan(planId), 'rollout', JSON.stringify(rollout));
  }

  /**
   * After re-planning: the new shard records, the events appended (the oldest dropped beyond
   * MAX_TOPOLOGY_EVENTS), and `run` controls for added shards, in one transaction.
   */
  async setTopology(
    plan: StoredPlan,
    shards: ShardRecord[],
    events: TopologyEvent[],
    added: ShardRecord[],
  ): Promise<TopologyEvent[]> {
    const topologyEvents = [...(plan.topologyEvents ?? []), ...events].slice(-MAX_TOPOLOGY_EVENTS);
    const multi = this.redis.multi();
    multi.hset(keys.plan(plan.id), {
      shards: JSON.stringify(shards),
      topologyEvents: JSON.stringify(topologyEvents),
    });
    for (const shard of added) multi.set(keys.control(shard.id), plan.state === 'active' ? 'run' : 'stop');
    await multi.exec();
    return topologyEvents;
  }

  /**
   * Sets the control key of each of the plan's shards, then announces each change on the control channel, in one
   * script (a worker woken by the message reads the new value). `run` is refused with PlanCutOverError once the
   * plan is cut over, checked in the same step, so no shard of a cut-over plan is ever told to run again.
   */
  async setControl(planId: string, shardIds: string[], control: ShardControl): Promise<void> {
    if (shardIds.length === 0) return;
    const result = (await this.redis.eval(
      SET_CONTROL_SCRIPT,
      2 + shardIds.length,
      keys.plan(planId),
      keys.controlChannel(),
      ...shardIds.map((id) => keys.control(id)),
      control,
      ...shardIds,
    )) as number;
    if (result === 0) throw new PlanCutOverError(planId);
  }

  /** Removes the plan, its shards' controls and checkpoints (they belong to the plan). Jobs are the caller's. */
  async delete(plan: StoredPlan): Promise<void> {
    const multi = this.redis.multi();
    multi.del(keys.plan(plan.id));
    multi.zrem(keys.plans(), plan.id);
    // The name goes with the plan, unless a newer plan already holds it.
    multi.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0",
      1,
      keys.planName(plan.plan.name),
      plan.id,
    );
    for (const shard of plan.shards) multi.del(keys.control(shard.id), keys.checkpoint(shard.id));
    multi.del(keys.caps(plan.id));
    await multi.exec();
  }

  /** The plan's caps in force (`{}` when none). */
  async getCaps(planId: string): Promise<PlanCaps> {
    return parseStoredCaps(await this.redis.get(keys.caps(planId))) ?? {};
  }

  /**
   * Replaces the plan's caps and publishes each shard id on the control channel in one step, so running workers
   * read them again now (they also poll them).
   */
  async setCaps(planId: string, caps: PlanCaps, shardIds: string[]): Promise<void> {
    const multi = this.redis.multi().set(keys.caps(planId), JSON.stringify(caps));
    for (const shardId of shardIds) multi.publish(keys.controlChannel(), shardId);
    await multi.exec();
  }

  /** Workers that registered a heartbeat (HLEN of the workers hash). */
  async workerCount(): Promise<number> {
    return this.redis.hlen(keys.workers());
  }
}

function decode(id: string, fields: Record<string, string> | null): StoredPlan | null {
  if (!fields || fields.plan === undefined) return null;
  return {
    id,
    plan: JSON.parse(fields.plan) as Plan,
    createdAt: Number(fields.createdAt),
    state: fields.state === 'stopped' || fields.state === 'cut-over' ? fields.state : 'active',
    shards: JSON.parse(fields.shards ?? '[]') as ShardRecord[],
    ...(fields.rollout === undefined ? {} : { rollout: JSON.parse(fields.rollout) as RolloutState }),
    ...(fields.topologyEvents === undefined
      ? {}
      : { topologyEvents: JSON.parse(fields.topologyEvents) as TopologyEvent[] }),
  };
}
