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
    for (;;) {
      lagging = await this.lagging(goals, lagging);
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
  private async lagging(goals: Map<string, number>, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const pipeline = this.options.redis.pipeline();
    for (const id of candidates) pipeline.hget(keys.checkpoint(id), 'offset');
    const replies = (await pipeline.exec()) ?? [];
    return candidates.filter((id, index) => {
      const [error, value] = replies[index] ?? [null, null];
      const offset = error || value === null ? -1 : Number(value);
      return !(offset >= goals.get(id)!);
    });
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
