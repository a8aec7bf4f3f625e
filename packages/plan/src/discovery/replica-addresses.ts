import { formatHostPort } from '../host-port.js';
import type { NatMapper } from '../nat-map.js';
import type { TopologyMaster } from './cluster-topology.js';

/** A replica of a shard whose announced address is dialled elsewhere. */
export interface ReplicaAddress {
  nodeId: string | null;
  /** `host:port` the replica announces */
  announced: string;
  /** `host:port` this side dials, from natMap, natRules or natDiscover */
  reachable: string;
}

/**
 * The shard's replicas (as CLUSTER SHARDS lists them) whose announced address maps to another reachable one.
 * A worker needs these after a failover promotes one of them: natDiscover matched them by CLUSTER MYID here, and
 * a worker that only has the job's natMap could not dial them otherwise. Replicas that announce no endpoint or
 * map to themselves are left out (nothing to tell).
 */
export function replicaAddresses(master: TopologyMaster, mapper: NatMapper): ReplicaAddress[] {
  const found: ReplicaAddress[] = [];
  for (const replica of master.replicas ?? []) {
    if (!replica.announced) continue;
    const announced = formatHostPort(replica.announced);
    const reachable = formatHostPort(mapper.map(replica.announced, replica.nodeId).reachable);
    if (reachable !== announced) found.push({ nodeId: replica.nodeId, announced, reachable });
  }
  return found;
}
