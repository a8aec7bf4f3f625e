import type { Logger } from 'pino';
import type { ReplicaClientOptions } from '@shardbridge/replication';
import type { TargetWriterOptions } from '@shardbridge/target';
import type { ShardProgress } from '../shard-progress.js';
import type { SourceLocator } from '../source/source-locator.js';

/** Options of a ScanSync (one shard in scan mode). */
export interface ScanSyncOptions {
  /** stable name of the shard (logs, progress) */
  shardId: string;
  /** the source node at its reachable address (as for ShardSync; `listeningPort`/`ackIntervalMs` are unused) */
  source: Omit<ReplicaClientOptions, 'resume'>;
  target: TargetWriterOptions;
  logger: Logger;
  /** called with a fresh snapshot every `progressIntervalMs` and on every phase change */
  onProgress?: (progress: ShardProgress) => void;
  /** @defaultValue 1000 */
  progressIntervalMs?: number;
  /**
   * How many times in a row a lost link (source or target) is re-established before the shard fails; each
   * re-establishment resubscribes and re-scans. A scan pass that starts resets the count. The very first
   * connection is not retried: a wrong address or a refused setting fails at once.
   * @defaultValue 10
   */
  maxReconnectAttempts?: number;
  /** first reconnect delay; doubles per attempt with ±20% jitter, capped at 30 s. @defaultValue 500 */
  reconnectBaseDelayMs?: number;
  /** the node as the cluster knows it. @defaultValue `{ nodeId: null, announced: <source host:port> }` */
  sourceNode?: { nodeId: string | null; announced: string };
  /** follows source failovers before each reconnect (the re-scan then runs on the new master). @defaultValue undefined */
  locator?: SourceLocator;
  /** time between two RTT samples to the source; 0 turns sampling off. @defaultValue 5000 */
  rttIntervalMs?: number;
  /**
   * May `CONFIG SET notify-keyspace-events` be run on the source node when notifications are off (the plan's
   * `source.configureSource`).
   * @defaultValue false
   */
  configureSource?: boolean;
  /** slots the node serves (places the notification probe key on it). @defaultValue `[[0, 16383]]` */
  slots?: Array<[number, number]>;
  /** SCAN COUNT hint: keys asked per SCAN step. @defaultValue 500 */
  scanCount?: number;
  /** keys read from the source and not yet handed to the target, at most (each holds its DUMP). @defaultValue 128 */
  maxReadsInFlight?: number;
  /**
   * Keys waiting for a re-read, at most. Past it the waiting set is dropped and the node re-scanned (counted in
   * `scan.rescans`), which bounds memory under a write rate the copy cannot follow.
   * @defaultValue 100000
   */
  maxDirtyKeys?: number;
  /** CONFIG refused: how long the probe waits for its notification. @defaultValue 5000 */
  probeTimeoutMs?: number;
  /**
   * End every pass by listing the target's keys in the shard's slots (SCAN; db 0 of the masters concerned on a
   * cluster target) and deleting those the source does not hold (`EXISTS` on the source, ordered with the copies).
   * This catches deletions no notification reported — made while the subscription was down, among a dropped dirty
   * set, or while no worker ran the shard. Turn it off only when the target holds other data in the same slots/dbs.
   * @defaultValue true
   */
  reconcileTarget?: boolean;
}
