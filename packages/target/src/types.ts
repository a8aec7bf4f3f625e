import type { ConnectionOptions } from 'node:tls';

export interface HostPort {
  host: string;
  port: number;
}

export interface TargetWriterOptions {
  type: 'standalone' | 'cluster';
  /** reachable seed addresses */
  seeds: HostPort[];
  username?: string;
  password?: string;
  tls?: ConnectionOptions;
  /** announced "host:port" -> reachable address, for cluster targets behind NAT */
  natMap?: Record<string, HostPort>;
  /**
   * Maps an announced address that `natMap` does not list (NAT rules, discovered mappings). Consulted for every
   * node a cluster target announces: CLUSTER SLOTS, MOVED and ASK. @defaultValue identity
   */
  mapAddress?: (announced: HostPort) => HostPort;
  /**
   * Cluster target, a source command whose keys span slots: `split` runs DEL/UNLINK/TOUCH/MSET as one command per
   * slot (same final data, not atomic across slots); `error` fails the shard with TARGET_CROSSSLOT. Other
   * multi-key commands (RENAME, SMOVE, MSETNX, …) always fail with TARGET_CROSSSLOT naming the keys.
   * @defaultValue "split"
   */
  crossSlot?: 'split' | 'error';
  /**
   * Exactly-once (standalone targets): the stream's commands go out in MULTI … EXEC batches that also SET this key
   * (db 0) to `"<replid> <offset> <db>"`, so the target records atomically how far the stream got (see
   * MarkedBatch; set `streamReplid`). Ignored for a cluster target. @defaultValue undefined (off)
   */
  appliedMarkerKey?: string;
  /**
   * Exactly-once: the shard owner's fence epoch. Each batch records it in `<appliedMarkerKey>:epoch` (db 0) and is
   * refused (TARGET_FENCED, nothing applied) when that key holds a newer one: a worker that lost the shard cannot
   * write behind its successor. Batches a script cannot run (see README) are not fenced.
   * @defaultValue undefined (not fenced)
   */
  fenceEpoch?: number;
  /**
   * The most commands sent but not yet confirmed before `write` returns false: the ceiling of the adaptive window
   * (see FlowWindow), or the fixed window when `adaptiveWindow` is false. @defaultValue 100000
   */
  maxInFlight?: number;
  /**
   * The most bytes of keys/payloads/arguments sent but not yet confirmed before `write` returns false: the writer's
   * memory budget (at least one command is always accepted). @defaultValue 67108864 (64 MiB)
   */
  maxInFlightBytes?: number;
  /**
   * true: the window starts at 1,000 commands / 16 MiB, grows to the bandwidth-delay product the writer measures
   * (round trips of its confirmations, confirmed throughput) up to the maximums above, and shrinks when the target
   * slows down; false: the window is fixed at the maximums. @defaultValue true
   */
  adaptiveWindow?: boolean;
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** a human name for errors/logs; @defaultValue the first seed */
  label?: string;
  /**
   * names of replicated commands never forwarded to the target (case-insensitive), in addition to PING and
   * REPLCONF which are always skipped; they still advance the acknowledged offset in order.
   * @defaultValue []
   */
  skipCommands?: string[];
  /**
   * commands in flight and no reply for this long = the target is stalled (paused, overloaded, unreachable):
   * fatal TARGET_CONNECT_FAILED. 0 disables the check.
   * @defaultValue 60000
   */
  replyTimeoutMs?: number;
}

/** One key of a full sync, as produced by the RDB parser. */
export interface RestoreRecord {
  db: number;
  key: Buffer;
  /** absolute unix ms, null = persistent */
  expireAt: number | null;
  payload: Buffer;
  idle?: number | null;
  freq?: number | null;
  /**
   * `false`: RESTORE without REPLACE, so a key the target already has is kept; its BUSYKEY reply is counted in
   * `TargetWriter.stats.skippedExistingKeys`, not treated as an error. @defaultValue true
   */
  replace?: boolean;
}
