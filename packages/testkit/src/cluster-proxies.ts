import type { RedisCluster } from './cluster.js';
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
import type { RedisServer } from './redis-server.js';

/** One fault proxy per cluster node, plus the NAT map that routes announced endpoints through them. */
export interface ClusterProxies {
  /** Proxy in front of each node, keyed by node. */
  readonly proxies: Map<RedisServer, FaultProxy>;
  /** The proxy in front of `node`. */
  proxyOf(node: RedisServer): FaultProxy;
  /** ioredis NAT map: announced endpoint -> this node's proxy. */
  natMap(): Record<string, { host: string; port: number }>;
  /** Closes every proxy. Idempotent. */
  close(): Promise<void>;
}

/**
 * Puts a {@link FaultProxy} in front of every node of `cluster`, so a client that follows the NAT map reaches
 * nodes only through proxies and a test can slow, blackhole or cut one shard's traffic. The cluster bus and
 * replication still go direct.
 */
export async function proxyCluster(
  cluster: RedisCluster,
  options: FaultProxyOptions = {},
): Promise<ClusterProxies> {
  const proxies = new Map<RedisServer, FaultProxy>();
  await Promise.all(
    cluster.nodes.map(async (node) => {
      proxies.set(node, await startFaultProxy(node, options));
    }),
  );
  let closing: Promise<void> | undefined;
  return {
    proxies,
    proxyOf(node) {
      const proxy = proxies.get(node);
      if (!proxy) throw new RangeError('node is not part of this cluster');
      return proxy;
    },
    natMap() {
      return Object.fromEntries(
        cluster.nodes.map((node) => {
          const proxy = proxies.get(node)!;
          return [cluster.announced(node), { host: proxy.host, port: proxy.port }];
        }),
      );
    },
    close() {
      closing ??= Promise.all([...proxies.values()].map((proxy) => proxy.close())).then(() => undefined);
      return closing;
    },
  };
}
