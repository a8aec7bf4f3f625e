import type { NatMappedBy } from '../nat-map.js';
import type { SlotRange } from '../discovery/slot-ranges.js';
import type { ReplicaAddress } from '../discovery/replica-addresses.js';

/** How a node's address was obtained (see DiscoveredShard.mappedBy). */
export type PreflightMappedBy = NatMappedBy | 'seed' | 'manual';

/** Result of authenticating: `ok` (credentials accepted), `not-required` (none given, none wanted), `refused`, or `not-checked` (the node did not answer). */
export type PreflightAuth = 'ok' | 'not-required' | 'refused' | 'not-checked';

/** Whether the source lets this user run a replication command; `unknown` when it could not be told. */
export type PreflightPermission = 'permitted' | 'forbidden' | 'unknown';

/** What every checked node reports. `null` = not learnt (the node failed earlier). */
export interface PreflightNode {
  /** 40-hex cluster node id; null for a standalone node or when unknown */
  nodeId: string | null;
  /** inclusive ranges the topology gives this master; `[[0, 16383]]` for a standalone node */
  slots: SlotRange[];
  /** INFO `role` (`master`, `slave`) */
  role: string | null;
  /** `host:port` the cluster announces (or the seed as written) */
  announced: string;
  /** `host:port` dialled */
  reachable: string;
  mappedBy: PreflightMappedBy;
  /** TCP (+TLS) connect time in ms */
  connectMs: number | null;
  auth: PreflightAuth;
  /** INFO `redis_version` */
  version: string | null;
  /** first thing that went wrong on this node; null when all checks passed */
  error: string | null;
}

/** A source master, one per shard. */
export interface PreflightSourceNode extends PreflightNode {
  /** RDB format version the node writes (INFO `rdb_version` when given, else derived from the version) */
  rdbVersion: number | null;
  psync: PreflightPermission;
  replconf: PreflightPermission;
  /** bytes; `unknown` when neither INFO nor CONFIG GET tells */
  replBacklogSize: number | 'unknown';
  /**
   * The shard's replicas whose announced address maps to another reachable one (natMap, natRules,
   * natDiscover); not checked here, carried to the shard's job for failovers. Absent when there is none.
   */
  replicaAddresses?: ReplicaAddress[];
  /** dbs holding keys (INFO keyspace); null when not read */
  nonEmptyDbs?: number[] | null;
  /**
   * bytes of `client-output-buffer-limit replica` at which the node drops a replica (the hard limit, or the soft one
   * when lower); null: no limit; `unknown`: CONFIG GET refused or not read
   */
  replicaOutputBufferLimit?: number | null | 'unknown';
}

/** A target node (the standalone target, or a cluster target's master). */
export interface PreflightTargetNode extends PreflightNode {
  /** a SET + DEL of a `shardbridge:preflight:*` key worked; null when not tried */
  writable: boolean | null;
  /** dbs holding keys before the check wrote anything (INFO keyspace); null when not read */
  nonEmptyDbs?: number[] | null;
}

/** One reason the plan would fail, with what to change. */
export interface PreflightProblem {
  side: 'source' | 'target';
  /** `host:port` concerned (announced when known), or `(plan)` */
  address: string;
  /** stable machine code: `DISCOVERY_*` for topology problems, `PREFLIGHT_*` for the checks */
  code: string;
  message: string;
  /** what to change, e.g. the exact natMap line to add */
  fix: string;
}

/** Everything `preflightPlan` learnt. Nothing in it is secret. */
export interface PreflightReport {
  /** no problems */
  ok: boolean;
  /** wall time of the whole preflight, ms */
  durationMs: number;
  source: {
    type: 'standalone' | 'cluster' | 'rdb';
    /** one per shard, in slot order (none for an RDB-file source) */
    shards: PreflightSourceNode[];
  };
  target: {
    type: 'standalone' | 'cluster';
    nodes: PreflightTargetNode[];
    /** slots served by a reachable, writable master (16384 for a healthy target); null when the topology was not read */
    slotsCovered: number | null;
  };
  problems: PreflightProblem[];
  /** worth knowing, never a reason to refuse the plan (e.g. the output buffer a rate cap leans on) */
  warnings?: PreflightProblem[];
}
