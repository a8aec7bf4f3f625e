import type { TargetError } from './errors.js';
import type { RestoreRecord } from './types.js';

/** `PendingReply.seq` of a command the writer counts in its window but that completes no ack entry */
export const NO_ENTRY = -1;
/** `PendingReply.seq` of a command a transport adds by itself (SELECT, MULTI): outside the writer's window */
export const INTERNAL = -2;

/**
 * One command awaiting its reply. `seq` is the ack-tracker entry the reply completes, or {@link NO_ENTRY} /
 * {@link INTERNAL} when the reply completes nothing by itself but must still be checked for an error.
 * `name`/`key` exist only to name the command in an error message.
 */
export interface PendingReply {
  seq: number;
  name: string;
  key: Buffer | null;
  /** bytes of arguments this reply confirms (counted against the window's bytes) */
  bytes: number;
  /** commands of the window this reply confirms (a marked batch script stands for all of its own). @defaultValue 1 */
  commands?: number;
}

/** What a transport reports to its writer. */
export interface TransportEvents {
  /** one reply, for the `PendingReply` handed over with the command; `error` is a coded error or null */
  onReply(pending: PendingReply, error: TargetError | null): void;
  /** the link to (a node of) the target was lost while the writer was open */
  onLost(error: TargetError): void;
}

/**
 * The wire side of a target writer: standalone (one socket, replies in order) or cluster (routed by slot).
 * Every method sends without waiting; each `PendingReply` is reported exactly once via `onReply`, unless the
 * link is lost first (then `onLost` is reported, and unanswered commands are never re-sent).
 */
export interface Transport {
  readonly label: string;
  events: TransportEvents | null;
  /** MOVED/ASK/TRYAGAIN replies followed so far (cluster only) */
  readonly redirections?: number;
  /** RESTORE of one key into `record.db` */
  restore(record: RestoreRecord, pending: PendingReply): void;
  /** one command, in stream `db` */
  command(db: number, args: Buffer[], pending: PendingReply): void;
  /**
   * `MULTI`, `commands`, `EXEC` as one unit in stream `db`. `pendings[i]` belongs to `commands[i]`; `exec`
   * gets the EXEC reply, which also reports errors of the queued commands. Absent when the target cannot run
   * a source transaction atomically (cluster): the writer then sends the commands one by one.
   */
  transaction?(db: number, commands: Buffer[][], pendings: PendingReply[], exec: PendingReply): void;
  /** Checks that stream `db` can be served; a cluster target only has db 0. */
  checkDb(db: number): TargetError | null;
  /** Ends the link(s) without waiting for replies; unanswered commands are dropped. */
  close(): Promise<void>;
}
