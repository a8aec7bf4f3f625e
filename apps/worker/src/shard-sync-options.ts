import type { Logger } from 'pino';
import type { ReplicaClientOptions } from '@shardbridge/replication';
import type { ShardCaps, SyncFilterSpec, TargetMode } from '@shardbridge/plan';
import type { TargetWriterOptions } from '@shardbridge/target';
import type { CheckpointStore } from './checkpoint/checkpoint-store.js';
import type { MigrationBarrier } from './resharding/migration-barrier.js';
import type { SourceLocator } from './source/source-locator.js';
import type { ShardProgress } from './shard-progress.js';
import type { RewritePolicy } from './rewrite/rewrite-policy.js';

/** Target nodes holding keys, by address, with the dbs that hold them. */
export type TargetKeyspaceReader = () => Promise<Array<{ address: string; dbs: number[] }>>;

export interface ShardSyncOptions {
  /** stable name of the shard; keys its checkpoint */
  shardId: string;
  /** the source node to replicate, at its reachable address; `resume` is filled in from the checkpoint */
  source: Omit<ReplicaClientOptions, 'resume'>;
  target: TargetWriterOptions;
  checkpoints: CheckpointStore;
  logger: Logger;
  /** called with a fresh snapshot every `progressIntervalMs` and on every phase change */
  onProgress?: (progress: ShardProgress) => void;
  /** @defaultValue 1000 */
  progressIntervalMs?: number;
  /** minimum time between two checkpoint saves while data flows. @defaultValue 1000 */
  checkpointIntervalMs?: number;
  /**
   * How many times in a row a lost link is re-established before the shard fails. A link that reaches the
   * command stream resets the count. Before the first link streamed, only a connection the source accepted and
   * then closed or reset during the handshake is retried (a NAT gateway dropping a new flow): a wrong address, a
   * silent one and the server's own refusals (password, NOAUTH, PSYNC, TLS) fail at once.
   * @defaultValue 10
   */
  maxReconnectAttempts?: number;
  /** first reconnect delay; doubles per attempt with ±20% jitter, capped at 30 s. @defaultValue 500 */
  reconnectBaseDelayMs?: number;
  /**
   * Bound on a graceful stop (and on the flush after a lost link): how long `stop()` waits for the target to
   * confirm what it was sent and for the checkpoint to be saved. Past it the shard gives up on the rest (a target
   * under `CLIENT PAUSE … WRITE`, a queue Redis that is gone), keeps the last confirmed checkpoint and says what it
   * did not save (see `stopOutcome`). `run()` settles within about this plus 2.5 s after `stop()`.
   * @defaultValue 10000
   */
  stopTimeoutMs?: number;
  /**
   * The source node as the cluster knows it (id and announced `host:port`), for progress, logs and failover
   * following. @defaultValue `{ nodeId: null, announced: <source host:port> }`
   */
  sourceNode?: { nodeId: string | null; announced: string };
  /**
   * Follows source failovers: before each reconnect, the locator confirms the node is still a master or finds the
   * one that now serves the shard's slots, and the link resumes there with PSYNC (a promoted replica keeps the old
   * replid as replid2 and answers +CONTINUE). Omitted: always reconnect to the same address.
   * @defaultValue undefined
   */
  locator?: SourceLocator;
  /**
   * Time between two samples of the source on the RTT probe's connection (see ShardLinkHealth.rttMs): its round
   * trip, its replication offset (lag bytes not read yet, the output buffer warning) and, once, its
   * `client-output-buffer-limit`. 0 turns sampling off. @defaultValue 5000
   */
  rttIntervalMs?: number;
  /** the shard's rate caps at start (see rate-caps in @shardbridge/plan); `setRateCaps` changes them. @defaultValue none */
  rateCaps?: ShardCaps;
  /**
   * When a full sync rebuilds keys with commands instead of RESTORE (see RewritePolicy): `auto` does so only
   * for a target too old to load the source's payload version. @defaultValue "auto"
   */
  rewrite?: RewritePolicy;
  /**
   * A key whose value needs more than this many RDB bytes is written in parts (RPUSH/SADD/ZADD/HSET batches,
   * SET + APPENDs) under a scratch key, then RENAMEd over the real key; memory stays about this size whatever
   * the key's size. @defaultValue 67108864 (64 MiB)
   */
  bigKeyThreshold?: number;
  /**
   * `sync`: full sync, then the command stream until stopped. `full`: one full sync, never resumed from a
   * checkpoint; `run()` resolves (phase `completed`) once the target confirmed every key of the RDB, so the target
   * equals the snapshot.
   * @defaultValue 'sync'
   */
  mode?: 'sync' | 'full';
  /** what a full sync does with keys already in the target (see the plan's `targetMode`). @defaultValue 'replace' */
  targetMode?: TargetMode;
  /** what of the source reaches the target, RDB and stream alike. @defaultValue everything */
  filter?: SyncFilterSpec;
  /**
   * The shard holds every slot (a standalone source): only then may it flush the target (`flush-first`) or judge
   * the whole target's emptiness (`fail-if-not-empty`). @defaultValue true
   */
  wholeKeyspace?: boolean;
  /** reads which target dbs hold keys, for `fail-if-not-empty`; required by that mode */
  targetKeyspace?: TargetKeyspaceReader;
  /**
   * Orders slot migrations between this shard and the others of its plan (see apps/worker/src/resharding): a
   * `RESTORE-ASKING` in the stream, and everything after it, is applied only once the barrier passes, so the old
   * owner's `DEL` of a migrated key (replayed by another shard's worker) reaches the target first.
   * Omitted: the stream is applied as it comes.
   * @defaultValue undefined
   */
  migrationBarrier?: MigrationBarrier;
  /**
   * Pass `migrationBarrier` once before the first RESTORE of this shard's first full sync: set for a shard added by
   * re-planning, whose snapshot holds keys migrated from shards whose workers may lag.
   * @defaultValue false
   */
  barrierBeforeFirstRdb?: boolean;
}
