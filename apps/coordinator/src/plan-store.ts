import type { Redis } from 'ioredis';
import { keys, type Plan, type ShardRecord, type TopologyEvent } from '@shardbridge/plan';

/** Topology events kept per plan (the oldest go first). */
export const MAX_TOPOLOGY_EVENTS = 200;

/**
 * Desired state of a whole plan, as the API last set it. `cut-over`: a cutover verified the target and stopped every
 * shard (like `stopped`, resumable).
 */
export type PlanState = 'active' | 'stopped' | 'cut-over';

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

  /** Stores a new plan and sets every shard's control to `run`, atomically. */
  async create(record: StoredPlan): Promise<void> {
    const multi = this.redis.multi();
    multi.hset(keys.plan(record.id), {
      plan: JSON.stringify(record.plan),
      createdAt: String(record.createdAt),
      state: record.state,
      shards: JSON.stringify(record.shards),
      ...(record.rollout ? { rollout: JSON.stringify(record.rollout) } : {}),
    });
    multi.zadd(keys.plans(), record.createdAt, record.id);
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

  async setState(planId: string, state: PlanState): Promise<void> {
    await this.redis.hset(keys.plan(planId), 'state', state);
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

  /** Sets the control key of each shard, then announces each change on the control channel. */
  async setControl(shardIds: string[], control: ShardControl): Promise<void> {
    if (shardIds.length === 0) return;
    const multi = this.redis.multi();
    for (const id of shardIds) multi.set(keys.control(id), control);
    // Published after the keys are set in the same transaction: a worker woken by the message reads the new value.
    for (const id of shardIds) multi.publish(keys.controlChannel(), id);
    await multi.exec();
  }

  /** Removes the plan, its shards' controls and checkpoints (they belong to the plan). Jobs are the caller's. */
  async delete(plan: StoredPlan): Promise<void> {
    const multi = this.redis.multi();
    multi.del(keys.plan(plan.id));
    multi.zrem(keys.plans(), plan.id);
    for (const shard of plan.shards) multi.del(keys.control(shard.id), keys.checkpoint(shard.id));
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
