import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import { NatMapper } from '../nat-map.js';
import type { LiveSourceSpec, Plan, SourceSpec, TargetSpec } from '../plan-schema.js';
import { resolveSecret as defaultResolveSecret } from '../secret-reference.js';
import { resolveTls } from '../tls-settings.js';
import type { DiscoveryContext } from '../discovery/discovery-context.js';
import { DiscoveryError } from '../discovery/errors.js';
import { discoverManualShards } from '../discovery/manual-shards.js';
import { replicaAddresses, type ReplicaAddress } from '../discovery/replica-addresses.js';
import { discoverNatAddresses, type NatDiscovery } from '../discovery/nat-discover.js';
import { tlsFix } from '../discovery/tls-failure.js';
import { formatSlotRanges, missingSlotRanges, SLOT_COUNT } from '../discovery/slot-ranges.js';
import { checkNode, reasonOf, type NodeCheckOptions, type NodeToCheck } from './node-check.js';
import { readTopologyFromAny, type TopologyOutcome } from './parallel-topology.js';
import type {
  PreflightProblem,
  PreflightReport,
  PreflightSourceNode,
  PreflightTargetNode,
} from './preflight-report.js';
import { checkSourceMaster, UNKNOWN_SOURCE_EXTRA, type SourceExtra } from './source-checks.js';
import { checkTargetWritable } from './target-checks.js';
import { clusterDbProblem, nonEmptyDbs, targetNotEmptyProblem } from './keyspace-checks.js';
import { preflightRdbSource } from './rdb-source-check.js';
import { capsWarnings } from './caps-warnings.js';
import { hasCaps } from '../rate-caps.js';

/** Options for {@link preflightPlan}. */
export interface PreflightOptions {
  /**
   * Bound, in ms, on each connect and each reply. One node's checks together are bounded by twice this, and
   * nodes are checked in parallel, so a preflight takes a few times this at worst.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * Turns a password or key reference (`env:NAME`, `file:/path`, literal) into its value.
   * @defaultValue `resolveSecret` from secret-reference.ts
   */
  resolveSecret?: (value: string | undefined, field: string) => string | undefined;
}

interface Side {
  mapper: NatMapper;
  context: DiscoveryContext;
  checks: NodeCheckOptions;
}

/**
 * Checks, without enqueueing or replicating anything, that the plan would work from this host: every source
 * shard's master is reachable (through the plan's natMap, natRules, natDiscover or manual shards),
 * authenticates, is a master, and allows PSYNC/REPLCONF; the target is reachable, writable and (a cluster)
 * covers every slot. Checks run in parallel, each bounded; it never throws for a problem of the servers or the
 * mapping — those are the report's `problems`, each with a fix.
 */
export async function preflightPlan(plan: Plan, options: PreflightOptions = {}): Promise<PreflightReport> {
  const started = performance.now();
  const [source, target] = await Promise.all([
    // Scan mode exists for sources that forbid PSYNC: their refusal is reported, not a problem.
    preflightSource(plan.source, options, plan.mode !== 'scan', hasCaps(plan.caps)),
    preflightTarget(plan.target, options),
  ]);
  const problems = [
    ...source.problems,
    ...target.problems,
    ...keyspaceProblems(plan, source.shards, target.nodes),
  ];
  const warnings = capsWarnings(plan, source.shards);
  return {
    ok: problems.length === 0,
    durationMs: Math.round(performance.now() - started),
    source: { type: plan.source.type, shards: source.shards },
    target: { type: plan.target.type, nodes: target.nodes, slotsCovered: target.slotsCovered },
    problems,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** What the plan's filter and targetMode say about the keys found on both sides. */
function keyspaceProblems(
  plan: Plan,
  shards: readonly PreflightSourceNode[],
  nodes: readonly PreflightTargetNode[],
): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  if (plan.source.type === 'standalone') {
    for (const shard of shards) {
      const problem = shard.nonEmptyDbs ? clusterDbProblem(plan, shard.announced, shard.nonEmptyDbs) : null;
      if (problem) problems.push(problem);
    }
  }
  if (plan.targetMode === 'fail-if-not-empty') {
    for (const node of nodes) {
      if (node.nonEmptyDbs?.length) problems.push(targetNotEmptyProblem(node.announced, node.nonEmptyDbs));
    }
  }
  return problems;
}

function setUp(
  spec: LiveSourceSpec | TargetSpec,
  side: 'source' | 'target',
  options: PreflightOptions,
): Side {
  const resolve = options.resolveSecret ?? defaultResolveSecret;
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const tls = resolveTls(spec.tls, `${side}.tls`, resolve);
  const link = {
    username: spec.username,
    password: resolve(spec.password, `${side}.password`),
    tls: tls.enabled,
    tlsOptions: tls.options,
    timeoutMs,
  };
  const mapper = new NatMapper(spec.natMap, { natRules: spec.natRules });
  return {
    mapper,
    context: { natMapper: mapper, link, concurrency: 64 },
    checks: { link, deadlineMs: timeoutMs * 2 },
  };
}

function planProblem(side: 'source' | 'target', error: unknown): PreflightProblem {
  const code = (error as { code?: unknown }).code;
  return {
    side,
    address: '(plan)',
    code: typeof code === 'string' ? code : 'PREFLIGHT_SETUP',
    message: reasonOf(error),
    fix: `correct the plan's ${side} settings`,
  };
}

function topologyProblem(side: 'source' | 'target', seeds: readonly string[], outcome: TopologyOutcome) {
  if (outcome.ok) throw new Error('unreachable');
  const fixes: Record<string, string> = {
    DISCOVERY_AUTH: `check ${side}.username and ${side}.password`,
    DISCOVERY_TLS: tlsFix(outcome.tlsFailure ?? 'handshake', side),
    DISCOVERY_WRONG_TYPE: `set ${side}.type to match the server`,
  };
  return {
    side,
    address: seeds.join(', '),
    code: outcome.code,
    message: `could not read the ${side} cluster topology: ${outcome.message}`,
    fix:
      fixes[outcome.code] ??
      `give reachable addresses of ${side} cluster nodes in ${side}.seeds (or map them with ${side}.natMap)`,
  } satisfies PreflightProblem;
}

/** Topology from the plan's seeds (mapped) and, at the same time, the natDiscover dial; its addresses back the seeds up. */
async function clusterTopology(
  spec: LiveSourceSpec | TargetSpec,
  side: Side,
): Promise<{ topology: TopologyOutcome; discovery?: NatDiscovery; mapper: NatMapper }> {
  const seeds = spec.seeds.map((text) => {
    const seed = parseHostPort(text)!;
    return { seed, reachable: side.mapper.map(seed).reachable };
  });
  const [topology, discovery] = await Promise.all([
    readTopologyFromAny(seeds, side.context.link),
    spec.natDiscover?.length
      ? discoverNatAddresses(spec.natDiscover, side.context).catch(() => undefined)
      : Promise.resolve(undefined),
  ]);
  const mapper = discovery ? side.mapper.withDiscovered(discovery.byNodeId) : side.mapper;
  if (topology.ok || !discovery || discovery.byNodeId.size === 0) return { topology, discovery, mapper };
  const direct = [...discovery.byNodeId.values()].map((address) => ({ seed: address, reachable: address }));
  return { topology: await readTopologyFromAny(direct, side.context.link), discovery, mapper };
}

/** The one node of a standalone source or target, its seed mapped like any announced address. */
function standaloneNode(kind: 'source' | 'target', seedText: string, mapper: NatMapper): NodeToCheck {
  const seed = parseHostPort(seedText)!;
  const mapping = mapper.map(seed);
  return {
    side: kind,
    nodeId: null,
    slots: [[0, SLOT_COUNT - 1]],
    announced: seed,
    reachable: mapping.reachable,
    mappedBy: mapping.mappedBy === 'identity' ? 'seed' : mapping.mappedBy,
    ...(mapping.rule === undefined ? {} : { rule: mapping.rule }),
  };
}

function mastersToCheck(
  kind: 'source' | 'target',
  topology: Extract<TopologyOutcome, { ok: true }>,
  mapper: NatMapper,
): NodeToCheck[] {
  return topology.masters.map((master) => {
    if (!master.announced) {
      return {
        side: kind,
        nodeId: master.nodeId,
        slots: master.slots,
        announced: topology.seed,
        reachable: topology.reachable,
        mappedBy: 'seed',
      };
    }
    const mapping = mapper.map(master.announced, master.nodeId);
    return {
      side: kind,
      nodeId: master.nodeId,
      slots: master.slots,
      announced: master.announced,
      reachable: mapping.reachable,
      mappedBy: mapping.mappedBy,
      ...(mapping.rule === undefined ? {} : { rule: mapping.rule }),
    };
  });
}

async function preflightSource(
  spec: SourceSpec,
  options: PreflightOptions,
  replicates: boolean,
  /** read `client-output-buffer-limit` (CONFIG GET, optional in the documented ACL): only a plan with caps needs it */
  readOutputBufferLimit = false,
): Promise<{ shards: PreflightSourceNode[]; problems: PreflightProblem[] }> {
  if (spec.type === 'rdb') return { shards: [], problems: await preflightRdbSource(spec) };
  let side: Side;
  try {
    side = setUp(spec, 'source', options);
  } catch (error) {
    return { shards: [], problems: [planProblem('source', error)] };
  }
  const problems: PreflightProblem[] = [];
  let nodes: NodeToCheck[];
  let manual: Promise<unknown> | undefined;
  let replicas: ReplicaAddress[][] = [];
  if (spec.shards) {
    nodes = spec.shards.map((shard) => {
      const address = parseHostPort(shard.reachable)!;
      return {
        side: 'source',
        nodeId: null,
        slots: shard.slots ?? [],
        announced: address,
        reachable: address,
        mappedBy: 'manual',
      };
    });
    manual = discoverManualShards(spec.shards, side.context).then(
      (shards) => shards,
      (error: unknown) => error,
    );
  } else if (spec.type === 'standalone') {
    nodes = [standaloneNode('source', spec.seeds[0], side.mapper)];
  } else {
    const { topology, mapper } = await clusterTopology(spec, side);
    if (!topology.ok) return { shards: [], problems: [topologyProblem('source', spec.seeds, topology)] };
    const missing = missingSlotRanges(topology.masters.flatMap((master) => master.slots));
    if (missing.length > 0) {
      problems.push({
        side: 'source',
        address: formatHostPort(topology.seed),
        code: 'DISCOVERY_SLOTS_UNCOVERED',
        message: `the source cluster has no master for slots ${formatSlotRanges(missing)}`,
        fix: 'assign the slots (CLUSTER ADDSLOTS) or wait for a failover to finish',
      });
    }
    nodes = mastersToCheck('source', topology, mapper);
    replicas = topology.masters.map((master) => replicaAddresses(master, mapper));
  }
  const results = await Promise.all(
    nodes.map((node) =>
      checkNode<SourceExtra>(node, side.checks, UNKNOWN_SOURCE_EXTRA, (link, info) => {
        if (spec.type === 'standalone' && !spec.shards && info.get('cluster_enabled') === '1') {
          problems.push({
            side: 'source',
            address: formatHostPort(node.announced),
            code: 'DISCOVERY_WRONG_TYPE',
            message: `the source ${formatHostPort(node.announced)} is a cluster node`,
            fix: 'set source.type to "cluster"',
          });
        }
        return checkSourceMaster(link, info, node, spec.username, replicates, readOutputBufferLimit).then(
          (outcome) => ({
            ...outcome,
            extra: { ...outcome.extra, nonEmptyDbs: nonEmptyDbs(info) },
          }),
        );
      }),
    ),
  );
  const shards: PreflightSourceNode[] = results.map(({ row, extra }, index) => ({
    ...row,
    ...extra,
    ...(replicas[index]?.length ? { replicaAddresses: replicas[index] } : {}),
  }));
  problems.push(...results.flatMap((result) => result.problems));
  if (manual) {
    const outcome = await manual;
    if (Array.isArray(outcome)) {
      for (const [index, found] of outcome.entries()) {
        Object.assign(shards[index], {
          nodeId: found.nodeId,
          slots: found.slots,
          announced: found.announced,
        });
      }
    } else if (outcome instanceof DiscoveryError) {
      // Unreachable and refused nodes are already reported per node.
      if (outcome.code !== 'DISCOVERY_UNREACHABLE' && outcome.code !== 'DISCOVERY_AUTH') {
        problems.push({
          side: 'source',
          address: '(source.shards)',
          code: outcome.code,
          message: outcome.message,
          fix: 'list in source.shards the reachable address of every master, together covering all 16384 slots',
        });
      }
    } else {
      problems.push(planProblem('source', outcome));
    }
  }
  return { shards, problems };
}

/**
 * The target side of a preflight alone: every node reachable, writable, and its non-empty dbs (a worker's
 * `fail-if-not-empty` check). Never throws for a problem of the servers: see `problems`.
 */
export async function preflightTarget(
  spec: TargetSpec,
  options: PreflightOptions,
): Promise<{ nodes: PreflightTargetNode[]; slotsCovered: number | null; problems: PreflightProblem[] }> {
  let side: Side;
  try {
    side = setUp(spec, 'target', options);
  } catch (error) {
    return { nodes: [], slotsCovered: null, problems: [planProblem('target', error)] };
  }
  const problems: PreflightProblem[] = [];
  let nodes: NodeToCheck[];
  let seedAddress: HostPort | undefined;
  if (spec.type === 'standalone') {
    nodes = [standaloneNode('target', spec.seeds[0], side.mapper)];
  } else {
    const { topology, mapper } = await clusterTopology(spec, side);
    if (!topology.ok) {
      return { nodes: [], slotsCovered: null, problems: [topologyProblem('target', spec.seeds, topology)] };
    }
    seedAddress = topology.seed;
    nodes = mastersToCheck('target', topology, mapper);
  }
  const results = await Promise.all(
    nodes.map((node) =>
      checkNode(
        node,
        side.checks,
        { writable: null as boolean | null, nonEmptyDbs: null as number[] | null },
        async (link, info) => {
          // Read before the writability check's own throw-away key.
          const dbs = nonEmptyDbs(info);
          const outcome = await checkTargetWritable(link, info, node);
          return { ...outcome, extra: { ...outcome.extra, nonEmptyDbs: dbs } };
        },
      ),
    ),
  );
  const rows = results.map(({ row, extra }) => ({ ...row, ...extra }));
  problems.push(...results.flatMap((result) => result.problems));
  if (spec.type === 'standalone') return { nodes: rows, slotsCovered: null, problems };
  const served = rows.filter((row) => row.writable).flatMap((row) => row.slots);
  const missing = missingSlotRanges(served);
  const slotsCovered = SLOT_COUNT - missing.reduce((sum, [first, last]) => sum + last - first + 1, 0);
  if (missing.length > 0) {
    problems.push({
      side: 'target',
      address: seedAddress ? formatHostPort(seedAddress) : spec.seeds.join(', '),
      code: 'PREFLIGHT_TARGET_SLOTS_UNCOVERED',
      message: `no reachable, writable target master serves slots ${formatSlotRanges(missing)}`,
      fix: 'fix the target nodes named above (or assign the slots) so every slot has a writable master',
    });
  }
  return { nodes: rows, slotsCovered, problems };
}
