import type { PlanCaps, RateCaps } from '@shardbridge/plan';
import { connectApi, type ApiCommandOptions } from '../api-client.js';

export interface CapsCommandOptions extends ApiCommandOptions {
  /** ops/s to set (keys restored + commands applied) */
  ops?: number;
  /** bytes/s to set (replication-stream bytes, the RDB included) */
  bytes?: number;
  /** a shard id or index: the change applies to that shard's own caps instead of the plan's */
  shard?: string;
  /** remove the scope's caps (before applying --ops/--bytes, when given) */
  clear?: boolean;
  json?: boolean;
  /** @defaultValue process.stdout */
  write?: (text: string) => void;
}

const capsPath = (planId: string) => `/v1/plans/${encodeURIComponent(planId)}/caps`;

/**
 * `shardbridge caps <planId> [--ops N] [--bytes N] [--shard S] [--clear]`: shows the plan's caps, or changes them
 * on the running plan (no resync). A flag left out keeps its value; `--clear` lifts the scope's caps.
 */
export async function capsCommand(planId: string, options: CapsCommandOptions): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const api = await connectApi(options);
  let caps = await api.request<PlanCaps>('GET', capsPath(planId));
  const changing = options.clear === true || options.ops !== undefined || options.bytes !== undefined;
  if (changing) {
    const shardId = options.shard === undefined ? null : shardIdOf(planId, options.shard);
    const scope: RateCaps = options.clear ? {} : { ...(shardId ? caps.perShard?.[shardId] : caps) };
    if (options.ops !== undefined) scope.opsPerSecond = options.ops;
    if (options.bytes !== undefined) scope.bytesPerSecond = options.bytes;
    caps = shardId
      ? withShard(caps, shardId, scope)
      : { ...scope, ...(caps.perShard ? { perShard: caps.perShard } : {}) };
    caps = await api.request<PlanCaps>('PUT', capsPath(planId), caps);
  }
  if (options.json) return write(`${JSON.stringify(caps)}\n`);
  write(`${changing ? 'caps now in force' : 'caps'} of plan ${planId}: ${describeCaps(caps)}\n`);
  if (changing)
    write(
      `running workers apply them within seconds, without a resync; \`shardbridge status ${planId}\` shows them\n`,
    );
}

/** A shard named by its index (`2`) is `<planId>-2`. */
function shardIdOf(planId: string, shard: string): string {
  return /^\d+$/.test(shard) ? `${planId}-${shard}` : shard;
}

function withShard(caps: PlanCaps, shardId: string, scope: RateCaps): PlanCaps {
  const perShard = { ...caps.perShard };
  if (scope.opsPerSecond === undefined && scope.bytesPerSecond === undefined) delete perShard[shardId];
  else perShard[shardId] = scope;
  const { perShard: _old, ...planWide } = caps;
  return Object.keys(perShard).length > 0 ? { ...planWide, perShard } : planWide;
}

/** `2000 ops/s, 10 MB/s for the plan (divided among its shards); shard p-1: 500 ops/s` or `none (unlimited)`. */
export function describeCaps(caps: PlanCaps): string {
  const parts: string[] = [];
  const planWide = describeRate(caps);
  if (planWide) parts.push(`${planWide} for the plan (divided evenly among its shards)`);
  for (const [shardId, own] of Object.entries(caps.perShard ?? {})) {
    const text = describeRate(own);
    if (text) parts.push(`shard ${shardId}: ${text}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'none (unlimited)';
}

function describeRate(caps: RateCaps): string {
  return [
    caps.opsPerSecond === undefined ? '' : `${caps.opsPerSecond} ops/s`,
    caps.bytesPerSecond === undefined ? '' : `${caps.bytesPerSecond} bytes/s`,
  ]
    .filter(Boolean)
    .join(', ');
}
