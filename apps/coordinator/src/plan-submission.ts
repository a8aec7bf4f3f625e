import {
  formatHostPort,
  liveSourceOf,
  NatMapper,
  parseHostPort,
  parsePlan,
  PlanValidationError,
  type JobEndpoint,
  type LiveSourceSpec,
  type Plan,
  type PlanIssue,
  type ShardJobData,
  type ShardRecord,
  syncSettingsOf,
} from '@shardbridge/plan';

const REFERENCE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;
const LITERAL_REASON =
  'passwords travel in job data in plain text; give env:NAME or file:/path resolved on the worker';
const LITERAL_KEY_REASON =
  'private keys travel in job data in plain text; give env:NAME or file:/path resolved on the worker';

/**
 * Literal secrets (passwords, TLS private keys) in untrusted input, found before (and besides) schema
 * validation so both are reported.
 */
function literalSecrets(input: unknown): PlanIssue[] {
  const issues: PlanIssue[] = [];
  if (typeof input !== 'object' || input === null) return issues;
  const literal = (value: unknown) => typeof value === 'string' && value !== '' && !REFERENCE.test(value);
  for (const side of ['source', 'target'] as const) {
    const spec = (input as Record<string, unknown>)[side];
    if (typeof spec !== 'object' || spec === null) continue;
    const { password, tls } = spec as Record<string, unknown>;
    if (literal(password)) issues.push({ field: `${side}.password`, reason: LITERAL_REASON });
    if (typeof tls === 'object' && tls !== null && literal((tls as Record<string, unknown>).key)) {
      issues.push({ field: `${side}.tls.key`, reason: LITERAL_KEY_REASON });
    }
  }
  return issues;
}

/**
 * Validates a plan submitted over the API: the plan schema plus the API's own rule that passwords and TLS private
 * keys are references.
 * Throws PlanValidationError listing every problem.
 */
export function parseSubmittedPlan(input: unknown): Plan {
  const literals = literalSecrets(input);
  let plan: Plan;
  try {
    plan = parsePlan(input);
  } catch (error) {
    if (!(error instanceof PlanValidationError)) throw error;
    const known = new Set(error.issues.map((issue) => issue.field));
    throw new PlanValidationError([...error.issues, ...literals.filter((issue) => !known.has(issue.field))]);
  }
  if (literals.length > 0) throw new PlanValidationError(literals);
  if (plan.source.type === 'rdb') {
    // The file lives on one host and has no shards; a queued job could land on a worker without it.
    throw new PlanValidationError([
      {
        field: 'source.type',
        reason:
          'an RDB-file source is not queued by the coordinator: run `shardbridge run <plan>` (or ' +
          '`shardbridge import <file.rdb>`) on the host that holds the file',
      },
    ]);
  }
  return plan;
}

function endpoint(spec: LiveSourceSpec | Plan['target']): JobEndpoint {
  return {
    tls: spec.tls,
    ...(spec.username === undefined ? {} : { username: spec.username }),
    ...(spec.password === undefined ? {} : { password: spec.password }),
  };
}

/** Job data the coordinator writes: the plan contract, failover fields included. */
export type CoordinatorShardJobData = ShardJobData;

/** Every shard's reachable address, then the plan's seeds through its natMap and natRules; no duplicates. */
export function clusterSeedsOf(plan: Plan, shards: readonly ShardRecord[]): string[] {
  const source = liveSourceOf(plan);
  const mapper = new NatMapper(source.natMap, { natRules: source.natRules });
  const seeds = source.seeds.map((seed) => formatHostPort(mapper.map(parseHostPort(seed)!).reachable));
  return [...new Set([...shards.map((shard) => shard.reachable), ...seeds])];
}

/**
 * The plan's natMap plus every master's and replica's announced → reachable pair as discovery found it, so a
 * worker that follows a failover (to a promoted replica) can map known nodes even when they were found by
 * natDiscover or a rule.
 */
export function knownNatMapOf(
  plan: Plan,
  shards: readonly ShardRecord[],
): Record<string, string> | undefined {
  const nodes = shards.flatMap((shard) => [shard, ...(shard.replicaAddresses ?? [])]);
  const found = nodes.filter((node) => node.announced !== node.reachable);
  const { natMap } = liveSourceOf(plan);
  if (found.length === 0) return natMap;
  return {
    ...Object.fromEntries(found.map((node) => [node.announced, node.reachable])),
    ...natMap,
  };
}

/**
 * Job data of one shard. Only call with a plan that went through parseSubmittedPlan (references only).
 * `clusterSeeds` and the source natMap default to what this shard alone knows; pass the whole plan's.
 */
export function shardJobData(
  planId: string,
  plan: Plan,
  shard: ShardRecord,
  clusterSeeds: string[] = clusterSeedsOf(plan, [shard]),
  natMap: Record<string, string> | undefined = knownNatMapOf(plan, [shard]),
): CoordinatorShardJobData {
  const source = liveSourceOf(plan);
  const failover =
    source.type === 'cluster'
      ? {
          clusterSeeds,
          ...(natMap === undefined ? {} : { natMap }),
          ...(source.natRules === undefined ? {} : { natRules: source.natRules }),
          ...(source.readFrom === undefined ? {} : { readFrom: source.readFrom }),
        }
      : {};
  return {
    planId,
    planName: plan.name,
    shardId: shard.id,
    nodeId: shard.nodeId,
    slots: shard.slots,
    announced: shard.announced,
    reachable: shard.reachable,
    source: endpoint(source),
    ...syncSettingsOf(plan),
    ...(plan.consistency?.enabled ? { consistency: plan.consistency } : {}),
    // scan mode: may the worker turn keyspace notifications on
    ...(source.configureSource ? { configureSource: true } : {}),
    target: {
      ...endpoint(plan.target),
      type: plan.target.type,
      seeds: plan.target.seeds,
      ...(plan.target.natMap === undefined ? {} : { natMap: plan.target.natMap }),
      ...(plan.target.natRules === undefined ? {} : { natRules: plan.target.natRules }),
      ...(plan.target.rewrite === 'auto' ? {} : { rewrite: plan.target.rewrite }),
      ...(plan.target.bigKeyThreshold === undefined ? {} : { bigKeyThreshold: plan.target.bigKeyThreshold }),
      ...(plan.target.crossSlot === undefined ? {} : { crossSlot: plan.target.crossSlot }),
      ...(plan.target.exactlyOnce ? { exactlyOnce: true } : {}),
      ...(plan.target.window === undefined ? {} : { window: plan.target.window }),
    },
    ...failover,
  };
}
