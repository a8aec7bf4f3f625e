import { preflightPlan, type Plan, type PreflightReport, type ShardRecord } from '@shardbridge/plan';

/** Signature of `preflightPlan` as the coordinator calls it; injectable like discovery. */
export type RunPreflight = (plan: Plan, options: { connectTimeoutMs: number }) => Promise<PreflightReport>;

export const defaultPreflight: RunPreflight = (plan, options) => preflightPlan(plan, options);

/**
 * The report's source shards as the shard list of a plan, or null when preflight could not vouch for them (a
 * source problem, or no shard): then discovery runs, and its error names what is wrong.
 */
export function shardsFromReport(report: PreflightReport): Array<{
  nodeId: string | null;
  slots: Array<[number, number]>;
  announced: string;
  reachable: string;
  replicaAddresses?: ShardRecord['replicaAddresses'];
}> | null {
  const shards = report.source.shards;
  if (shards.length === 0 || report.problems.some((problem) => problem.side === 'source')) return null;
  return shards.map((shard) => ({
    nodeId: shard.nodeId,
    slots: shard.slots.map(([first, last]) => [first, last] as [number, number]),
    announced: shard.announced,
    reachable: shard.reachable,
    ...(shard.replicaAddresses?.length ? { replicaAddresses: shard.replicaAddresses } : {}),
  }));
}
