import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { keys, type ShardRecord } from '@shardbridge/plan';
import type { BarrierOutcome, MigrationBarrier } from './migration-barrier.js';
import type { MasterOffset } from './master-offsets.js';

export interface PlanMigrationBarrierOptions {
  /** the queue's Redis: the plan hash (`keys.plan`) and the shards' checkpoints (`keys.checkpoint`) */
  redis: Redis;
  planId: string;
  /** the shard that waits; it never waits for itself */
  shardId: string;
  /** the current master's offset of a shard; null when none answers (that shard is then not waited for) */
  masterOffset: (shard: ShardRecord) => Promise<MasterOffset | null>;
  /**
   * Whether a shard without a checkpoint is syncing now (its job reports `full-sync` or `incremental`). One that is
   * not (queued behind busy workers, held back by a canary rollout, stopped) is not waited for: the snapshot it
   * starts from later is taken after the goal, so it cannot bring back a key migrated before.
   * @defaultValue every shard without a checkpoint is waited for
   */
  isSyncing?: (shard: ShardRecord) => Promise<boolean>;
  logger: Logger;
  /**
   * How long one pass waits for the other shards before it lets the migrated keys through anyway (with a warning
   * and a count in progress): a stopped, failed or far-behind shard must not stall this one for ever.
   * @defaultValue 60000
   */
  timeoutMs?: number;
  /** time between two reads of the other shards' checkpoints. @defaultValue 100 */
  pollMs?: number;
}

/**
 * The migration barrier of distributed workers: the plan's shards come from the plan hash (so shards added by
 * re-planning are included), each one's goal from its source master, and each one's confirmed position from its
 * checkpoint in the queue's Redis — the offset whose effects the target confirmed, saved at most
 * `checkpointIntervalMs` after the confirmation (ShardSync saves a trailing checkpoint when acknowledgements stop).
 *
 * Offsets are compared without the replid: a failover keeps counting offsets where the old master stopped, and a
 * full resync clears the checkpoint first, so a lower or missing checkpoint only ever means "not there yet".
 */
export class PlanMigrationBarrier implements MigrationBarrier {
  constructor(private readonly options: PlanMigrationBarrierOptions) {}

  async pass(signal: AbortSignal): Promise<BarrierOutcome> {
    const started = Date.now();
    const { redis, planId, shardId } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const shards = JSON.parse((await redis.hget(keys.plan(planId), 'shards')) ?? '[]') as ShardRecord[];
    const others = shards.filter((shard) => shard.id !== shardId);
    const goals = new Map<string, number>();
    const unknown: string[] = [];
    await Promise.all(
      others.map(async (shard) => {
        const position = await this.options.masterOffset(shard).catch(() => null);
        if (position) goals.set(shard.id, position.offset);
        else unknown.push(shard.id);
      }),
    );
    signal.throwIfAborted();
    if (unknown.length > 0) {
      this.options.logger.warn(
        { shards: unknown },
        `migration barrier: no source master of shard(s) ${unknown.join(', ')} answered; not waiting for them`,
      );
    }
    let lagging = [...goals.keys()];
    const byId = new Map(others.map((shard) => [shard.id, shard]));
    for (;;) {
      lagging = await this.lagging(goals, lagging, byId);
      if (lagging.length === 0) {
        return { reached: true, waitedMs: Date.now() - started, lagging, unknown };
      }
      if (Date.now() - started >= timeoutMs) {
        return { reached: false, waitedMs: Date.now() - started, lagging, unknown };
      }
      await delay(this.options.pollMs ?? 100, signal);
    }
  }

  /** The shards among `candidates` whose checkpoint is still below their goal. */
  private async lagging(
    goals: Map<string, number>,
    candidates: string[],
    byId: Map<string, ShardRecord>,
  ): Promise<string[]> {
    if (candidates.length === 0) return [];
    const pipeline = this.options.redis.pipeline();
    for (const id of candidates) pipeline.hget(keys.checkpoint(id), 'offset');
    const replies = (await pipeline.exec()) ?? [];
    const still: string[] = [];
    for (const [index, id] of candidates.entries()) {
      const [error, value] = replies[index] ?? [null, null];
      if (error) {
        still.push(id);
      } else if (value === null) {
        const { isSyncing } = this.options;
        if (!isSyncing || (await isSyncing(byId.get(id)!).catch(() => true))) still.push(id);
      } else if (!(Number(value) >= goals.get(id)!)) {
        still.push(id);
      }
    }
    return still;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
