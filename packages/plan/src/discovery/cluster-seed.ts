import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import {
  parseClusterNodes,
  parseClusterShards,
  parseClusterSlots,
  type TopologyMaster,
} from './cluster-topology.js';
import { withNode, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { NodeProbeError, type NodeLink } from './probe-node.js';
import { isSharedTlsFailure, tlsFix } from './tls-failure.js';

/** The topology as one seed reported it, and which seed that was. */
export interface SeedTopology {
  /** the seed as written in the plan */
  seed: HostPort;
  /** where the seed was dialled (after natMap) */
  reachable: HostPort;
  masters: TopologyMaster[];
}

/**
 * Asks the seeds, in order, for the cluster's masters; the first that answers wins. A seed goes through the
 * mapping like any announced address (ioredis does not map seeds; we must); `direct` addresses (natDiscover's,
 * already reachable) are tried after them, unmapped. Refused credentials end the search at once (every node
 * shares them); anything else moves on to the next seed.
 */
export async function readTopologyFromSeeds(
  seeds: readonly string[],
  context: DiscoveryContext,
  direct: readonly HostPort[] = [],
): Promise<SeedTopology> {
  const failures: Array<{ seed: string; reachable: string; error: string }> = [];
  const candidates = [
    ...seeds.map((text) => {
      const seed = parseHostPort(text);
      if (!seed) throw new DiscoveryError('DISCOVERY_NO_SEED', `source seed "${text}" is not "host:port"`);
      return { seed, reachable: context.natMapper.map(seed).reachable };
    }),
    ...direct.map((address) => ({ seed: address, reachable: address })),
  ];
  for (const { seed, reachable } of candidates) {
    try {
      const masters = await withNode(context, seed, reachable, (link) =>
        readTopology(link, context.link.tls),
      );
      return { seed, reachable, masters };
    } catch (error) {
      if (error instanceof DiscoveryError) throw error;
      if (error instanceof NodeProbeError && error.kind === 'auth') throw authError(seed, reachable, error);
      if (error instanceof NodeProbeError && error.kind === 'tls' && isSharedTlsFailure(error.tlsFailure))
        throw tlsError('source', seed, reachable, error);
      failures.push({
        seed: formatHostPort(seed),
        reachable: formatHostPort(reachable),
        error: withTlsFix(error, 'source'),
      });
    }
  }
  const listed = failures
    .map(
      ({ seed, reachable, error }) => `${seed}${seed === reachable ? '' : ` (via ${reachable})`}: ${error}`,
    )
    .join('; ');
  throw new DiscoveryError(
    'DISCOVERY_NO_SEED',
    `no source seed answered: ${listed}. Check source.seeds (reachable addresses of cluster nodes) and source.natMap`,
    { seeds: failures },
  );
}

/**
 * CLUSTER SHARDS where the server knows it (Redis 7+), else CLUSTER SLOTS, with CLUSTER NODES for ids when
 * SLOTS gives none (Redis < 4.0).
 */
export async function readTopology(link: NodeLink, tls: boolean): Promise<TopologyMaster[]> {
  try {
    return parseClusterShards(await link.call('CLUSTER', 'SHARDS'), { tls });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/cluster support disabled/i.test(message)) {
      throw new DiscoveryError(
        'DISCOVERY_WRONG_TYPE',
        'the source seed is not a cluster node (cluster support disabled): set source.type to "standalone"',
      );
    }
    if (!/unknown (sub)?command|wrong cluster subcommand/i.test(message)) throw error;
  }
  const slots = await link.call('CLUSTER', 'SLOTS');
  const masters = parseClusterSlots(slots);
  if (masters.every((master) => master.nodeId !== null)) return masters;
  return parseClusterSlots(slots, parseClusterNodes(String(await link.call('CLUSTER', 'NODES'))));
}

/** DISCOVERY_AUTH for `seed`; the message names the address, never the password. */
export function authError(announced: HostPort, reachable: HostPort, error: NodeProbeError): DiscoveryError {
  const where = formatHostPort(announced);
  const via = formatHostPort(reachable);
  return new DiscoveryError(
    'DISCOVERY_AUTH',
    `source node ${where}${where === via ? '' : ` (via ${via})`} refused the credentials (${error.message}): ` +
      'check source.username and source.password',
    { node: where, reachable: via, reason: error.message },
  );
}

/**
 * DISCOVERY_TLS for a node of `side`: TLS settings are the same for every node of a side, so one failed
 * handshake is reported at once, with the plan field to change.
 */
export function tlsError(
  side: 'source' | 'target',
  announced: HostPort,
  reachable: HostPort,
  error: NodeProbeError,
): DiscoveryError {
  const where = formatHostPort(announced);
  const via = formatHostPort(reachable);
  const fix = tlsFix(error.tlsFailure ?? 'handshake', side);
  return new DiscoveryError(
    'DISCOVERY_TLS',
    `${side} node ${where}${where === via ? '' : ` (via ${via})`}: ${error.message}: ${fix}`,
    { node: where, reachable: via, reason: error.message, tlsFailure: error.tlsFailure, fix },
  );
}

/** An error's message, with what to change when it is a TLS failure. */
export function withTlsFix(error: unknown, side: 'source' | 'target'): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof NodeProbeError) || error.kind !== 'tls') return message;
  return `${message}: ${tlsFix(error.tlsFailure ?? 'handshake', side)}`;
}
