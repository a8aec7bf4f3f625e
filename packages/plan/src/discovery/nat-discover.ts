import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import { mapWithLimit, withNode, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { NodeProbeError } from './probe-node.js';
import { tlsError, withTlsFix } from './cluster-seed.js';
import { isSharedTlsFailure } from './tls-failure.js';

/** What dialling the natDiscover addresses found. */
export interface NatDiscovery {
  /** node id (CLUSTER MYID) → the natDiscover address it answered at; the first address wins for a duplicate */
  byNodeId: Map<string, HostPort>;
  /** addresses that did not answer, or answered without a node id (not a cluster node), with why */
  failures: Array<{ address: string; error: string }>;
}

/**
 * Dials each natDiscover address (connect + AUTH + CLUSTER MYID, `context.concurrency` at a time, each bounded by
 * the link timeout) and records which node answers where. The addresses are reachable as written: no mapping
 * applies to them. An address that does not answer is reported, not thrown: the topology decides whether a node
 * that matters is left without an address. Refused credentials throw DISCOVERY_AUTH (every node shares them).
 */
export async function discoverNatAddresses(
  addresses: readonly string[],
  context: DiscoveryContext,
  side: 'source' | 'target' = 'source',
): Promise<NatDiscovery> {
  const parsed = addresses.map((text) => {
    const address = parseHostPort(text);
    if (!address)
      throw new DiscoveryError('DISCOVERY_NO_SEED', `${side}.natDiscover "${text}" is not "host:port"`);
    return address;
  });
  const outcomes = await mapWithLimit(parsed, context.concurrency, (address) =>
    withNode(context, address, address, async (link) => String(await link.call('CLUSTER', 'MYID'))),
  );
  const byNodeId = new Map<string, HostPort>();
  const failures: NatDiscovery['failures'] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const address = parsed[index];
    if (outcome.status === 'fulfilled') {
      if (!byNodeId.has(outcome.value)) byNodeId.set(outcome.value, address);
      continue;
    }
    const error: unknown = outcome.reason;
    if (error instanceof NodeProbeError && error.kind === 'auth') {
      throw new DiscoveryError(
        'DISCOVERY_AUTH',
        `${side} natDiscover address ${formatHostPort(address)} refused the credentials (${error.message}): ` +
          `check ${side}.username and ${side}.password`,
        { node: formatHostPort(address), reason: error.message },
      );
    }
    if (error instanceof NodeProbeError && error.kind === 'tls' && isSharedTlsFailure(error.tlsFailure))
      throw tlsError(side, address, address, error);
    failures.push({ address: formatHostPort(address), error: withTlsFix(error, side) });
  }
  return { byNodeId, failures };
}
