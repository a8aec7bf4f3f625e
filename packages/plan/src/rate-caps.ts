import { z } from 'zod';

/**
 * Rate and bandwidth caps on what a plan's workers write to the target: the operator's safety valve for a busy
 * production source or a paid link. A cap slows the worker's reading of the source (back-pressure reaches the
 * source socket), so while it holds the source keeps the difference in its replica output buffer.
 *
 * What is counted: ops are keys restored by a full sync plus commands of the stream handed to the target (a
 * filter's drops are not); bytes are replication-stream bytes read from the source (the RDB during a full sync,
 * the command stream after), which is what crosses a paid link either way, within a few percent of what is
 * written to the target.
 */

const rate = z.number().int().min(1);

/** One scope's caps; an absent field is no cap. */
export const rateCapsSchema = z.strictObject({
  /** ops (keys restored + commands applied) per second. @defaultValue none (unlimited) */
  opsPerSecond: rate.optional(),
  /** replication-stream bytes per second (RDB included). @defaultValue none (unlimited) */
  bytesPerSecond: rate.optional(),
});

/**
 * The plan's `caps`: a plan-wide cap is divided evenly among the plan's shards; a shard listed in `perShard`
 * (by shard id, `<planId>-<index>`) uses its own value instead, field by field.
 */
export const planCapsSchema = rateCapsSchema.extend({
  /** @defaultValue none */
  perShard: z.record(z.string().min(1), rateCapsSchema).optional(),
});

export type RateCaps = z.infer<typeof rateCapsSchema>;
export type PlanCaps = z.infer<typeof planCapsSchema>;

/** The caps one shard runs under; null = no cap of that kind. */
export interface ShardCaps {
  opsPerSecond: number | null;
  bytesPerSecond: number | null;
}

export const NO_CAPS: ShardCaps = { opsPerSecond: null, bytesPerSecond: null };

/**
 * The caps of one shard: its `perShard` value when set, else the plan's divided by `shardCount` (rounded down,
 * at least 1 per second).
 */
export function shardCapsOf(
  caps: PlanCaps | null | undefined,
  shardId: string,
  shardCount: number,
): ShardCaps {
  if (!caps) return { ...NO_CAPS };
  const own = caps.perShard?.[shardId];
  const share = (planWide: number | undefined) =>
    planWide === undefined ? null : Math.max(1, Math.floor(planWide / Math.max(1, shardCount)));
  return {
    opsPerSecond: own?.opsPerSecond ?? share(caps.opsPerSecond),
    bytesPerSecond: own?.bytesPerSecond ?? share(caps.bytesPerSecond),
  };
}

/** Whether any cap is set anywhere in the plan's caps. */
export function hasCaps(caps: PlanCaps | null | undefined): boolean {
  if (!caps) return false;
  if (caps.opsPerSecond !== undefined || caps.bytesPerSecond !== undefined) return true;
  return Object.values(caps.perShard ?? {}).some(
    (own) => own.opsPerSecond !== undefined || own.bytesPerSecond !== undefined,
  );
}

/** Reads the JSON stored at `keys.caps(planId)`; anything unreadable counts as no caps. */
export function parseStoredCaps(raw: string | null | undefined): PlanCaps | null {
  if (!raw) return null;
  try {
    const parsed = planCapsSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * What a shard reports about its caps (job progress `rateCap`): the caps in force and whether it waits for them.
 */
export interface ShardRateCapState extends ShardCaps {
  /** the shard is holding its source back for a cap right now */
  throttled: boolean;
  /** ms spent holding back for a cap since the worker took the shard */
  throttledMs: number;
}

/**
 * The source's replica output buffer as the worker sees it (job progress `outputBuffer`): bytes the source has
 * produced that the worker has not read yet (the source's `master_repl_offset` minus the offset received, so it
 * includes what is on the wire), next to the source's `client-output-buffer-limit replica`.
 */
export interface SourceOutputBuffer {
  /** source offset − received offset at the last sample; null before the first */
  backlogBytes: number | null;
  /** the limit Redis drops the replica at: the hard limit, or the soft one when lower; null: unknown or none */
  limitBytes: number | null;
  /** backlogBytes passed half of limitBytes: the link is at risk */
  warning: boolean;
}

/** Part of the limit past which the output buffer warning is raised. */
export const OUTPUT_BUFFER_WARNING_RATIO = 0.5;

/**
 * Parses `CONFIG GET client-output-buffer-limit` (`normal 0 0 0 replica 268435456 67108864 60 pubsub ...`) into the
 * replica class's limit in bytes: the hard limit, or the soft one when set and lower (held for its seconds, it
 * drops the link just the same). null when neither is set (0) or the text has no replica class.
 */
export function replicaOutputBufferLimit(value: string): number | null {
  const words = value.trim().split(/\s+/);
  const at = words.findIndex((word) => word === 'replica' || word === 'slave');
  if (at < 0) return null;
  const [hard, soft] = [words[at + 1], words[at + 2]].map(parseMemory);
  const limits = [hard, soft].filter((limit): limit is number => limit !== null && limit > 0);
  return limits.length === 0 ? null : Math.min(...limits);
}

/** `268435456`, `256mb`, `64k`, … in bytes; null when unreadable. */
function parseMemory(text: string | undefined): number | null {
  const match = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text ?? '');
  if (!match) return null;
  const unit = (match[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = {
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1_000_000,
    mb: 1024 ** 2,
    g: 1_000_000_000,
    gb: 1024 ** 3,
  };
  return Number(match[1]) * scale[unit];
}
