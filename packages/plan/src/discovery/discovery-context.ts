import { isIP } from 'node:net';
import type { HostPort } from '../host-port.js';
import type { NatMapper } from '../nat-map.js';
import { openNode, type NodeLink, type NodeLinkOptions } from './probe-node.js';

/** What every discovery step shares: the NAT map and how to open a link (secrets already resolved). */
export interface DiscoveryContext {
  natMapper: NatMapper;
  link: Omit<NodeLinkOptions, 'servername'>;
  /** how many nodes to probe at once */
  concurrency: number;
}

/**
 * Opens `reachable`, verifying TLS against the announced host, runs `use` and always closes the link.
 * Errors of `openNode` and `use` propagate.
 */
export async function withNode<T>(
  context: DiscoveryContext,
  announced: HostPort,
  reachable: HostPort,
  use: (link: NodeLink) => Promise<T>,
): Promise<T> {
  const servername = isIP(announced.host) ? undefined : announced.host;
  const link = await openNode(reachable, { ...context.link, servername });
  try {
    return await use(link);
  } finally {
    link.close();
  }
}

/** Runs `task` over `items` with at most `limit` in flight; each outcome in input order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index]) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
