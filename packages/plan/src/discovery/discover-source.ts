import type { ConnectionOptions } from 'node:tls';
import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import { NatMapper, type NatMappedBy } from '../nat-map.js';
import type { ReadFrom, SourceSpec } from '../plan-schema.js';
import { resolveSecret as defaultResolveSecret } from '../secret-reference.js';
import { authError, readTopologyFromSeeds, tlsError } from './cluster-seed.js';
import { withNode, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { checkMasters, type MasterAddress, type MasterFacts } from './master-reachability.js';
import { discoverManualShards } from './manual-shards.js';
import { chooseReplicas, type ReplicaSource } from './replica-choice.js';
import { replicaAddresses, type ReplicaAddress } from './replica-addresses.js';
import type { TopologyMaster } from './cluster-topology.js';
import { discoverNatAddresses, type NatDiscovery } from './nat-discover.js';
import { resolveTls } from '../tls-settings.js';
import { NodeProbeError, parseInfo } from './probe-node.js';
import { formatSlotRanges, missingSlotRanges, SLOT_COUNT, type SlotRange } from './slot-ranges.js';

/** One source shard: a master and the slots it serves, as a shard job needs it. */
export interface DiscoveredShard {
  /** cluster node id; null for a standalone source */
  nodeId: string | null;
  /** merged, sorted, inclusive; `[[0, 16383]]` for a standalone source */
  slots: Array<[number, number]>;
  /** `host:port` the source hands out for this node (for a standalone source: the seed as written) */
  announced: string;
  /** `host:port` this side dials */
  reachable: string;
  /**
   * `natMap`: an entry mapped the announced address; `natRule`: a natRules rule did; `natDiscover`: a natDiscover
   * address answered CLUSTER MYID with this node's id; `identity`: dialled as announced; `seed`: the node
   * announces no endpoint (or, standalone, nothing maps the seed) and is dialled at the seed's address;
   * `manual`: given in `source.shards`.
   */
  mappedBy: NatMappedBy | 'seed' | 'manual';
  /** `redis_version` of the master */
  version?: string;
  /**
   * The replica to replicate from, when `source.readFrom` asks for one and one is usable; `announced` and
   * `reachable` stay the master's (the shard's identity). Absent: replicate from the master.
   */
  replica?: ReplicaSource;
  /**
   * The shard's replicas whose announced address maps to another reachable one (natMap, natRules, natDiscover),
   * so the mapping of a replica a failover promotes can travel with the job. Absent when there is none.
   */
  replicaAddresses?: ReplicaAddress[];
}

/** Options for {@link discoverSourceShards}. */
export interface DiscoverSourceOptions {
  /**
   * Bound, in ms, on each connect and each reply. Discovery makes a few round trips per node, so a dead
   * address costs at most a few times this.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * Turns `source.password` (a literal, `env:NAME` or `file:/path`) into the password; `field` names it for
   * errors.
   * @defaultValue `resolveSecret` from secret-reference.ts
   */
  resolveSecret?: (value: string | undefined, field: string) => string | undefined;
  /**
   * Extra TLS settings when `source.tls` is set (CA, client certificate).
   * @defaultValue `{}` (system CAs)
   */
  tlsOptions?: ConnectionOptions;
  /**
   * How many masters are probed at once.
   * @defaultValue 16
   */
  concurrency?: number;
}

/**
 * Finds the shards to replicate: for a standalone source its one node (checked to answer and to be a master),
 * for a cluster one shard per master from CLUSTER SHARDS (or SLOTS), checked to cover every slot, with every
 * master dialled at its reachable (natMap-mapped) address. Throws {@link DiscoveryError}; every connection is
 * closed before this returns.
 */
export async function discoverSourceShards(
  source: SourceSpec,
  options: DiscoverSourceOptions = {},
): Promise<DiscoveredShard[]> {
  if (source.type === 'rdb') throw rdbSourceError(source.path);
  const resolve = options.resolveSecret ?? defaultResolveSecret;
  const tls = resolveTls(source.tls, 'source.tls', resolve);
  const context: DiscoveryContext = {
    natMapper: new NatMapper(source.natMap, { natRules: source.natRules }),
    concurrency: options.concurrency ?? 16,
    link: {
      username: source.username,
      password: resolve(source.password, 'source.password'),
      tls: tls.enabled,
      tlsOptions: { ...tls.options, ...options.tlsOptions },
      timeoutMs: options.connectTimeoutMs ?? 5000,
    },
  };
  if (source.shards) return discoverManualShards(source.shards, context);
  return source.type === 'standalone'
    ? [await discoverStandalone(source.seeds[0], context)]
    : discoverCluster(source.seeds, source.natDiscover ?? [], source.readFrom ?? 'master', context);
}

async function discoverStandalone(text: string, context: DiscoveryContext): Promise<DiscoveredShard> {
  const seed = parseSeed(text);
  const { reachable, mappedBy } = context.natMapper.map(seed);
  let info: Map<string, string>;
  try {
    info = await withNode(context, seed, reachable, async (link) =>
      parseInfo(String(await link.call('INFO'))),
    );
  } catch (error) {
    if (error instanceof NodeProbeError && error.kind === 'auth') throw authError(seed, reachable, error);
    if (error instanceof NodeProbeError && error.kind === 'tls')
      throw tlsError('source', seed, reachable, error);
    const via = formatHostPort(reachable);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DiscoveryError(
      'DISCOVERY_NO_SEED',
      `the source ${text}${via === text ? '' : ` (via ${via})`} does not answer (${reason}): check source.seeds` +
        `${mappedBy === 'natMap' ? ' and its natMap entry' : ''}`,
      { seeds: [{ seed: text, reachable: via, error: reason }] },
    );
  }
  if (info.get('cluster_enabled') === '1') {
    throw new DiscoveryError(
      'DISCOVERY_WRONG_TYPE',
      `the source ${text} is a cluster node: set source.type to "cluster" to replicate every shard`,
    );
  }
  const role = info.get('role');
  if (role !== 'master') {
    const master = `${info.get('master_host') ?? '?'}:${info.get('master_port') ?? '?'}`;
    throw new DiscoveryError(
      'DISCOVERY_SEED_IS_REPLICA',
      `the source ${text} is a replica of ${master}: replicate from the master — set source.seeds to ` +
        `["${master}"] (its reachable address, or add a natMap entry for "${master}" if it is behind NAT)`,
      { seed: text, role, master },
    );
  }
  return {
    nodeId: null,
    slots: [[0, SLOT_COUNT - 1]],
    announced: formatHostPort(seed),
    reachable: formatHostPort(reachable),
    mappedBy: mappedBy === 'identity' ? 'seed' : mappedBy,
    version: info.get('redis_version'),
  };
}

async function discoverCluster(
  seeds: readonly string[],
  natDiscover: readonly string[],
  readFrom: ReadFrom,
  base: DiscoveryContext,
): Promise<DiscoveredShard[]> {
  const discovery = natDiscover.length > 0 ? await discoverNatAddresses(natDiscover, base) : undefined;
  const context = discovery
    ? { ...base, natMapper: base.natMapper.withDiscovered(discovery.byNodeId) }
    : base;
  const direct = discovery ? [...discovery.byNodeId.values()] : [];
  const topology = await readTopologyFromSeeds(seeds, context, direct);
  const seedText = formatHostPort(topology.seed);
  const missing = missingSlotRanges(topology.masters.flatMap((master) => master.slots));
  if (missing.length > 0) {
    throw new DiscoveryError(
      'DISCOVERY_SLOTS_UNCOVERED',
      `the source cluster (as ${seedText} sees it) has no master for slots ${formatSlotRanges(missing)}: ` +
        'assign them (CLUSTER ADDSLOTS) or wait for a failover to finish, then plan again',
      { missing, seed: seedText },
    );
  }
  const masters: MasterAddress[] = topology.masters.map((master) => {
    if (!master.announced) {
      return {
        ...master,
        announced: topology.seed,
        reachable: topology.reachable,
        mappedBy: 'seed' as const,
      };
    }
    return {
      ...master,
      announced: master.announced,
      ...context.natMapper.map(master.announced, master.nodeId),
    };
  });
  let facts: MasterFacts[];
  try {
    facts = await checkMasters(masters, context);
  } catch (error) {
    throw discovery ? withNatDiscoverFailures(error, discovery) : error;
  }
  const replicas = await chooseReplicas(topology.masters, readFrom, context);
  return masters.map((master, index) => ({
    ...withReplicaAddresses(topology.masters[index], context.natMapper),
    nodeId: master.nodeId,
    slots: master.slots.map(([first, last]): SlotRange => [first, last]),
    announced: formatHostPort(master.announced),
    reachable: formatHostPort(master.reachable),
    mappedBy: master.mappedBy,
    ...(facts[index].version ? { version: facts[index].version } : {}),
    ...(replicas[index] ? { replica: replicas[index] } : {}),
  }));
}

function withReplicaAddresses(
  master: TopologyMaster,
  mapper: NatMapper,
): { replicaAddresses?: ReplicaAddress[] } {
  const found = replicaAddresses(master, mapper);
  return found.length > 0 ? { replicaAddresses: found } : {};
}

/** Adds to DISCOVERY_UNREACHABLE which natDiscover addresses did not answer: likely the missing nodes. */
function withNatDiscoverFailures(error: unknown, discovery: NatDiscovery): unknown {
  if (!(error instanceof DiscoveryError) || error.code !== 'DISCOVERY_UNREACHABLE') return error;
  const failed = discovery.failures.map(({ address, error: reason }) => `${address} (${reason})`);
  const note =
    failed.length > 0
      ? ` natDiscover addresses that did not answer: ${failed.join(', ')}.`
      : " Or add the node's reachable address to natDiscover.";
  return new DiscoveryError(
    error.code,
    `${error.message}.${note}`,
    { ...error.details, natDiscoverFailures: discovery.failures },
    { cause: error.cause },
  );
}

function parseSeed(text: string): HostPort {
  const seed = parseHostPort(text);
  if (!seed) throw new DiscoveryError('DISCOVERY_NO_SEED', `source seed "${text}" is not "host:port"`);
  return seed;
}

/** An RDB-file source has no shards: the coordinator cannot plan it (see README "Import an RDB file"). */
function rdbSourceError(path: string): DiscoveryError {
  return new DiscoveryError(
    'DISCOVERY_RDB_SOURCE',
    `source is the RDB file ${path}, which has no shards to discover: import it with ` +
      '`shardbridge run <plan>` or `shardbridge import <file.rdb>` on the host that holds the file',
    { path },
  );
}
