import type { Redis } from 'ioredis';
import {
  contentsOf,
  keySlot,
  parseClusterNodes,
  SLOT_COUNT,
  type RedisCluster,
  type RedisContents,
  type RedisServer,
} from '@shardbridge/testkit';

/**
 * Routes keys of a cluster whose topology does not change during a test to plain per-master clients, by the slot
 * table read once. Used instead of an ioredis Cluster client for the NAT-announcing clusters: on a MOVED, ioredis
 * 5 stores the redirect's announced (unmapped) address in its slot map and then retries on random nodes
 * (redis/ioredis#1582), which under load ends in "Too many Cluster redirections".
 */
export class ClusterRouter {
  private constructor(
    private readonly bySlot: RedisServer[],
    private readonly clientOf: Map<RedisServer, Redis>,
  ) {}

  static async open(cluster: RedisCluster): Promise<ClusterRouter> {
    const admin = cluster.nodes[0].client();
    const entries = parseClusterNodes(String(await admin.call('CLUSTER', 'NODES')));
    admin.disconnect();
    const ids = new Map(
      await Promise.all(cluster.nodes.map(async (node) => [await cluster.nodeId(node), node] as const)),
    );
    const bySlot = new Array<RedisServer>(SLOT_COUNT);
    for (const entry of entries) {
      const node = ids.get(entry.id);
      if (entry.role !== 'master' || !node) continue;
      for (const [from, to] of entry.slots) bySlot.fill(node, from, to + 1);
    }
    const masters = [...new Set(bySlot)];
    if (masters.length === 0 || bySlot.some((node) => node === undefined)) {
      throw new Error('the cluster does not serve every slot');
    }
    return new ClusterRouter(bySlot, new Map(masters.map((node) => [node, node.client()])));
  }

  /** The client of the master serving `key`. */
  client(key: string): Redis {
    return this.clientOf.get(this.bySlot[keySlot(key)])!;
  }

  masters(): RedisServer[] {
    return [...this.clientOf.keys()];
  }

  disconnect(): void {
    for (const client of this.clientOf.values()) client.disconnect();
  }
}

/** db 0 of every master of the cluster, merged into one dataset (a cluster has db 0 only). */
export async function clusterContents(router: ClusterRouter): Promise<RedisContents> {
  const db = {};
  for (const node of router.masters()) {
    const client = node.client();
    try {
      Object.assign(db, (await contentsOf(client, { dbs: [0] })).dbs['0']);
    } finally {
      client.disconnect();
    }
  }
  return { dbs: { '0': db } };
}
