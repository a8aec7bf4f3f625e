/**
 * Link-health fields of a shard's progress: what the worker knows about its connection to the source. Optional in
 * job progress (`ShardJobProgress`) so reports of older workers stay readable.
 */

/** Why the last replication link to the source ended. */
export interface LinkDisconnect {
  /** unix ms */
  at: number;
  /** stable error code, e.g. `REPL_CONNECTION_CLOSED` */
  code: string;
  message: string;
}

/** The source node a shard currently replicates from. Addresses are `host:port`. */
export interface SourceNodeInfo {
  /** cluster node id, null for a standalone source or before it is known */
  nodeId: string | null;
  /** the address the source announces for this node */
  announced: string;
  /** the address the worker dials */
  reachable: string;
}

export interface ShardLinkHealth {
  /**
   * Round-trip time to the source in ms: the last `PING` → `+PONG` on a separate control connection to the node
   * the shard replicates from (network round trip plus the node's command latency); null before the first sample
   * or while the node does not answer.
   */
  rttMs: number | null;
  lastDisconnect: LinkDisconnect | null;
  /** the node the shard replicates from now; it changes when the shard follows a failover */
  sourceNode: SourceNodeInfo | null;
  /** times the shard moved to another node of the source cluster (failover followed) */
  sourceFailovers: number;
}
