import type { ShardLinkHealth } from './link-health.js';
import type { ConsistencyReport, ConsistencySpec } from './consistency.js';
import type { ShardRateCapState, SourceOutputBuffer } from './rate-caps.js';
/**
 * The contract between the coordinator (which plans and enqueues) and the workers (which run shards), and the
 * layout of ShardBridge's own keys in the queue's Redis. Job data is stored in plain text in that Redis: it holds
 * addresses and secret *references* (`env:NAME`, `file:/path`), never a password.
 */
import type { NatRule, Plan, ReadFrom, RewritePolicy, TlsSpec } from './plan-schema.js';
import type { SyncFilterSpec, SyncMode, TargetMode } from './sync-settings.js';

/** BullMQ queue that carries one job per shard. */
export const SHARD_QUEUE = 'shardbridge-shards';

/** Prefix of every key ShardBridge itself writes into the queue's Redis (BullMQ's own keys start with `bull:`). */
export const KEY_PREFIX = 'shardbridge';

export const keys = {
  /**
   * hash: `plan` (sanitised plan JSON), `createdAt`, `state` (`active | stopped | cut-over`; `cut-over` is final), `shards` (JSON
   * ShardRecord[]), `topologyEvents` (JSON TopologyEvent[], newest last), `verification` (JSON VerificationReport,
   * the latest), `cutover` (JSON CutoverReport, the latest)
   */
  plan: (planId: string) => `${KEY_PREFIX}:plan:${planId}`,
  /** sorted set of plan ids by creation time (ms) */
  plans: () => `${KEY_PREFIX}:plans`,
  /** string: the id of the plan that holds this plan name (one plan per name, see the coordinator's PlanStore) */
  planName: (name: string) => `${KEY_PREFIX}:plan-name:${name}`,
  /** hash: `replid`, `offset`, `db`, `savedAt` — the shard's resume point (see apps/worker checkpoint store) */
  checkpoint: (shardId: string) => `${KEY_PREFIX}:checkpoint:${shardId}`,
  /**
   * string: the desired state of a shard, `run` or `stop`; durable, read by a worker when it takes the job. Never set
   * back to `run` once the shard's plan is `cut-over`.
   */
  control: (shardId: string) => `${KEY_PREFIX}:control:${shardId}`,
  /** pub/sub channel: message = shardId whose control key changed (for promptness; the key is the truth) */
  controlChannel: () => `${KEY_PREFIX}:control`,
  /** hash: workerId -> JSON { host, pid, concurrency, seenAt } (heartbeat, for metrics and status) */
  workers: () => `${KEY_PREFIX}:workers`,
  /**
   * string: JSON `PlanCaps` (see rate-caps.ts), the plan's rate caps in force; absent = none. Set from the plan at
   * submit and by `PUT /v1/plans/:id/caps`, which then publishes every shard id on `controlChannel()` so running
   * workers read it again (they also poll it with the control keys).
   */
  caps: (planId: string) => `${KEY_PREFIX}:caps:${planId}`,
  /**
   * integer: the shard's fence epoch, INCR'd by each worker that takes the shard's job (exactly-once plans); the
   * target refuses batches carrying an older epoch than one it saw, so a worker that lost its lock cannot write late
   */
  fenceEpoch: (shardId: string) => `${KEY_PREFIX}:fence-epoch:${shardId}`,
};

/** Connection settings of one side as a worker needs them. Secrets are references only. */
export interface JobEndpoint {
  username?: string;
  /** `env:NAME` or `file:/path`, resolved on the worker */
  password?: string;
  /**
   * `true`/`false`, or TLS settings whose `ca`/`cert`/`key` are PEM or references (`file:/path`, `env:NAME` for
   * the key) resolved on the worker.
   */
  tls: TlsSpec;
}

/** Data of one shard job. jobId = shardId (no ':' allowed by BullMQ). */
export interface ShardJobData {
  planId: string;
  planName: string;
  /** `<planId>-<index>`, stable for the life of the plan; keys the checkpoint */
  shardId: string;
  /** cluster node id of the source master, null for a standalone source */
  nodeId: string | null;
  /** inclusive slot ranges served by this shard; [[0, 16383]] for a standalone source */
  slots: Array<[number, number]>;
  /** address the source announces for this node (`host:port`) */
  announced: string;
  /** address the worker dials (`host:port`), after NAT mapping */
  reachable: string;
  source: JobEndpoint;
  /**
   * Reachable `host:port` of source cluster nodes to ask for the topology when the shard's master is lost.
   * Absent: only the shard's last node is asked.
   */
  clusterSeeds?: string[];
  /**
   * The source's announced → reachable map, for the address of a newly promoted master. The coordinator puts here
   * the plan's natMap plus every master and replica mapping discovery found (natDiscover included, see
   * `ShardRecord.replicaAddresses`), so a worker need not dial natDiscover itself.
   */
  natMap?: Record<string, string>;
  /** the source's natRules, applied after `natMap` */
  natRules?: NatRule[];
  /** which node of the shard to replicate from (cluster sources). @defaultValue 'master' */
  readFrom?: ReadFrom;
  /** the plan's `mode`. @defaultValue 'sync' */
  mode?: SyncMode;
  /** the plan's consistency monitor settings; absent unless enabled */
  consistency?: ConsistencySpec;
  /** the plan's `targetMode`. @defaultValue 'replace' */
  targetMode?: TargetMode;
  /** the plan's `filter`. @defaultValue none (everything is synced) */
  filter?: SyncFilterSpec;
  /**
   * Scan mode only: the worker may `CONFIG SET notify-keyspace-events` on the source node when keyspace
   * notifications are off (the plan's `source.configureSource`).
   * @defaultValue false
   */
  configureSource?: boolean;
  /**
   * The shard was added by re-planning after resharding gave slots to a master no shard covered (scale-out): its
   * worker passes the migration barrier once before loading its first snapshot. @defaultValue false
   */
  addedByReplan?: boolean;
  target: JobEndpoint & {
    type: 'standalone' | 'cluster';
    /** reachable seeds */
    seeds: string[];
    /** announced -> reachable, for a cluster target behind NAT */
    natMap?: Record<string, string>;
    /** the target's natRules, applied after `natMap` (MOVED/ASK and topology refreshes included) */
    natRules?: NatRule[];
    /** restore or rebuild keys with commands (plan `target.rewrite`). @defaultValue 'auto' */
    rewrite?: RewritePolicy;
    /** plan `target.bigKeyThreshold` in bytes. @defaultValue 67108864 */
    bigKeyThreshold?: number;
    /** plan `target.crossSlot`. @defaultValue 'split' */
    crossSlot?: 'split' | 'error';
    /** plan `target.exactlyOnce` (standalone targets). @defaultValue false */
    exactlyOnce?: boolean;
    /** plan `target.window`. @defaultValue adaptive, up to 100000 commands / 64 MiB */
    window?: { maxCommands?: number; maxBytes?: number; adaptive?: boolean };
  };
}

/** The plan's sync settings as job data carries them (only the ones the plan sets). */
export function syncSettingsOf(plan: Plan): Pick<ShardJobData, 'mode' | 'targetMode' | 'filter'> {
  return {
    ...(plan.mode === undefined ? {} : { mode: plan.mode }),
    ...(plan.targetMode === undefined ? {} : { targetMode: plan.targetMode }),
    ...(plan.filter === undefined ? {} : { filter: plan.filter }),
  };
}

/**
 * Where a shard's sync is in its life. `completed`: a one-shot sync (`mode: "full"`) finished and the target
 * confirmed all of it.
 */
export type ShardSyncPhase =
  'connecting' | 'full-sync' | 'incremental' | 'stopping' | 'stopped' | 'completed' | 'failed';

/** The counters of one shard's sync, as the engine keeps them. Offsets are replication-stream bytes. */
export interface ShardSyncCounters {
  phase: ShardSyncPhase;
  replid: string | null;
  /** RDB bytes received in the current full sync */
  rdbBytesDone: number;
  /** RDB size announced by the source; null for a diskless transfer or before a full sync */
  rdbBytesTotal: number | null;
  /** keys restored from RDBs since the worker took the shard */
  keysWritten: number;
  /** replicated commands applied since the worker took the shard */
  commandsApplied: number;
  /** RDB keys left out by the plan's filter (db or key rules) */
  keysFiltered?: number;
  /** replicated commands left out (or cut down, for a split multi-key command) by the plan's filter */
  commandsFiltered?: number;
  /** RDB keys not written because the target already had them (`targetMode: "skip-existing"`) */
  keysSkippedExisting?: number;
  /** RDB keys not written because their expiry had already passed */
  keysSkippedExpired?: number;
  /** offset of the last source byte received; -1 before any */
  sourceOffset: number;
  /** offset of the last source byte whose effects the target confirmed; -1 before any */
  acknowledgedOffset: number;
  /** sourceOffset - acknowledgedOffset (0 when caught up) */
  lagBytes: number;
  fullSyncs: number;
  partialSyncs: number;
  reconnects: number;
  lastError: { code: string; message: string } | null;
  /**
   * Keys rebuilt with commands instead of RESTORE (an older target, or `rewrite: "always"`), and what that
   * could not carry over. Absent from reports of older workers.
   */
  keyRewrite?: {
    keysRewritten: number;
    expiredKeysSkipped: number;
    droppedFieldTtls: number;
    lostPendingEntries: number;
  };
  /** scan mode only (absent for replication): its own counters, see {@link ScanCounters} */
  scan?: ScanCounters;
}

/**
 * Counters of a scan-mode shard. Its `phase` is `full-sync` while a SCAN pass runs and `incremental` once live
 * changes are followed (so rollout and status treat it like a replicating shard); `scan.phase` says the same in
 * scan-mode words.
 */
export interface ScanCounters {
  phase: 'scan' | 'live';
  /** keys returned by SCAN and copied (DUMP/PTTL → RESTORE or DEL), every pass counted */
  keysScanned: number;
  /** keys re-read because a keyspace notification named them (repeats coalesced while waiting) */
  keysReread: number;
  /** keys deleted on the target because the source no longer had them when read */
  keysDeleted: number;
  /**
   * keys a pass found on the target (in the shard's slots) that the source no longer holds, deleted — deletions
   * no notification reported (a lost subscription, a dropped dirty set, a restart)
   */
  staleKeysDeleted: number;
  /** keyspace notifications received */
  notifications: number;
  /** SCAN passes after the first: after a lost link or an overflow of the dirty-key set */
  rescans: number;
  /** keys waiting to be re-read now */
  dirtyKeys: number;
}

/** Counters of a shard's slot-migration barrier (resharding between source shards). */
export interface ShardMigrationCounters {
  /** barrier passes: each covers every RESTORE-ASKING received before it read the other shards' offsets */
  migrationBarriers: number;
  /** passes that stopped waiting at the barrier's timeout and let migrated keys through anyway */
  migrationBarrierTimeouts: number;
}

/** What a worker reports through `job.updateProgress` (about once a second). */
export interface ShardJobProgress
  extends Omit<ShardSyncCounters, 'phase'>, Partial<ShardLinkHealth>, Partial<ShardMigrationCounters> {
  phase: ShardSyncPhase | 'queued';
  workerId: string;
  /** ms since the last byte the target confirmed was received from the source; 0 when caught up */
  lagMs: number;
  opsPerSecond: number;
  /** the caps in force and whether the shard waits for them; absent from workers without caps support */
  rateCap?: ShardRateCapState;
  /** the source's replica output buffer for this shard, when the worker could read it */
  outputBuffer?: SourceOutputBuffer;
  /** the consistency monitor's findings; absent when the plan does not enable it */
  consistency?: ConsistencyReport;
  /** unix ms of this report */
  reportedAt: number;
}

/** One shard as planned by the coordinator (returned by POST /v1/plans and stored with the plan). */
export interface ShardRecord {
  id: string;
  nodeId: string | null;
  slots: Array<[number, number]>;
  announced: string;
  reachable: string;
  jobId: string;
  /**
   * Replicas of the shard whose announced address maps to another reachable one, as discovery found them; they
   * go into every job's `natMap` so a worker can dial a promoted replica. Absent when there is none.
   */
  replicaAddresses?: Array<{ nodeId: string | null; announced: string; reachable: string }>;
  /** unix ms the topology watcher added this shard (a master that got slots no shard covered); absent for the planned ones */
  addedAt?: number;
  /** unix ms since which the shard's master serves no slot (resharding moved them all away); its job keeps running */
  drainedAt?: number;
}

/** A change of the source's slot ownership that the coordinator's topology watcher saw. */
export interface TopologyEvent {
  /** unix ms */
  at: number;
  /** `slots-moved`: slots now served by another shard's master; `shard-added`: a master no shard covered got slots;
   * `shard-drained`: a shard's master serves no slot any more */
  kind: 'slots-moved' | 'shard-added' | 'shard-drained';
  /** the shard that served the slots (absent for `shard-added`) */
  from?: string;
  /** the shard that serves them now (absent for `shard-drained`) */
  to?: string;
  /** inclusive ranges */
  slots: Array<[number, number]>;
}
