import { isIP } from 'node:net';
import { formatHostPort, type HostPort } from '../host-port.js';
import { readTopology } from '../discovery/cluster-seed.js';
import type { TopologyMaster } from '../discovery/cluster-topology.js';
import { DiscoveryError } from '../discovery/errors.js';
import { NodeProbeError, openNode, type NodeLinkOptions } from '../discovery/probe-node.js';
import { reasonOf } from './node-check.js';
import type { TlsFailure } from '../discovery/tls-failure.js';

/** A seed to ask, as written and as dialled. */
export interface TopologySeed {
  seed: HostPort;
  reachable: HostPort;
}

/** The first answer, or why none came. */
export type TopologyOutcome =
  | { ok: true; seed: HostPort; reachable: HostPort; masters: TopologyMaster[] }
  | {
      ok: false;
      code: string;
      message: string;
      failures: Array<{ seed: string; error: string }>;
      /** how the TLS handshake failed, when that is why no seed answered */
      tlsFailure?: TlsFailure;
    };

/**
 * Asks every seed for the topology at once and takes the first answer, so a blackholed seed costs nothing
 * when another answers; each attempt is bounded by the link timeout (connect, AUTH, each reply). Links are
 * closed whatever happens. A DiscoveryError (not a cluster node) or refused credentials are reported as such.
 */
export async function readTopologyFromAny(
  seeds: readonly TopologySeed[],
  link: Omit<NodeLinkOptions, 'servername'>,
): Promise<TopologyOutcome> {
  const failures: Array<{ seed: string; error: string }> = [];
  const attempts = seeds.map(async ({ seed, reachable }) => {
    try {
      const node = await openNode(reachable, {
        ...link,
        servername: isIP(seed.host) ? undefined : seed.host,
      });
      try {
        return { seed, reachable, masters: await readTopology(node, link.tls) };
      } finally {
        node.close();
      }
    } catch (error) {
      failures.push({ seed: formatHostPort(seed), error: reasonOf(error) });
      throw error;
    }
  });
  try {
    return { ok: true, ...(await Promise.any(attempts)) };
  } catch (aggregate) {
    const errors = (aggregate as AggregateError).errors ?? [];
    const typed = errors.find((error: unknown) => error instanceof DiscoveryError) as
      DiscoveryError | undefined;
    if (typed) return { ok: false, code: typed.code, message: typed.message, failures };
    const auth = errors.some((error: unknown) => error instanceof NodeProbeError && error.kind === 'auth');
    const tls = errors.find((error: unknown) => error instanceof NodeProbeError && error.kind === 'tls') as
      NodeProbeError | undefined;
    const listed = failures.map(({ seed, error }) => `${seed}: ${error}`).join('; ');
    return {
      ok: false,
      code: auth ? 'DISCOVERY_AUTH' : tls ? 'DISCOVERY_TLS' : 'DISCOVERY_NO_SEED',
      message: `no seed answered: ${listed}`,
      failures,
      ...(tls?.tlsFailure ? { tlsFailure: tls.tlsFailure } : {}),
    };
  }
}
