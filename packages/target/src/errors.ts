/**
 * Errors raised by the target writer. Every error carries a stable machine `code` and a message that names the
 * target (its label/address) and the likely fix. Messages name command names and keys, never values.
 */

export type TargetErrorCode =
  | 'TARGET_CONNECT_FAILED'
  | 'TARGET_CONNECTION_LOST'
  | 'TARGET_AUTH_FAILED'
  | 'TARGET_OOM'
  | 'TARGET_READONLY'
  | 'TARGET_WRITE_FAILED'
  | 'TARGET_CROSSSLOT'
  | 'TARGET_DB_UNSUPPORTED'
  | 'TARGET_BUSYKEY'
  | 'TARGET_MARKER_MISMATCH'
  | 'TARGET_FENCED'
  | 'TARGET_CLOSED';

export class TargetError extends Error {
  readonly code: TargetErrorCode;
  /** the target label/address this error is about */
  readonly target: string;

  constructor(code: TargetErrorCode, target: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.target = target;
  }
}

/** The target could not be reached, timed out, did not answer PING, or the link was lost. */
export class TargetConnectError extends TargetError {
  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super('TARGET_CONNECT_FAILED', target, message, options);
  }
}

/**
 * An established link to the target broke (restart, failover, CLIENT KILL, network). Transient: the session
 * reconnects and resumes from its checkpoint.
 */
export class TargetConnectionLostError extends TargetError {
  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super('TARGET_CONNECTION_LOST', target, message, options);
  }
}

/** AUTH was refused or the target demands a password that was not given. */
export class TargetAuthError extends TargetError {
  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super('TARGET_AUTH_FAILED', target, message, options);
  }
}

/** `-OOM`: the target reached `maxmemory` with a non-evicting policy. */
export class TargetOomError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_OOM', target, message);
  }
}

/** `-READONLY`: the target is a replica. */
export class TargetReadonlyError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_READONLY', target, message);
  }
}

/** What the target answered to the failed command, when the error came from an error reply. */
export interface RefusedCommand {
  /** command name as sent, e.g. `RESTORE` */
  command: string;
  /** its first key, if any */
  key: Buffer | null;
  /** the error reply without the leading `-` */
  reply: string;
}

/** Any other error reply to a write: the target diverges from the source from this command on. */
export class TargetWriteError extends TargetError {
  constructor(
    target: string,
    message: string,
    /** set when the target answered with an error reply (callers such as an RDB import explain it further) */
    readonly refused?: RefusedCommand,
  ) {
    super('TARGET_WRITE_FAILED', target, message);
  }
}

/** `-CROSSSLOT`: a multi-key command of the source spans several slots of a cluster target. */
export class TargetCrossSlotError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_CROSSSLOT', target, message);
  }
}

/** A cluster target only has db 0, but the source selected (or a key lives in) another db. */
export class TargetDbUnsupportedError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_DB_UNSUPPORTED', target, message);
  }
}

/** `-BUSYKEY`: a RESTORE without REPLACE met a key the target already has. */
export class TargetBusyKeyError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_BUSYKEY', target, message);
  }
}

/**
 * Exactly-once: a batch found the applied marker holding something other than what the batch before it set (that
 * batch was refused or lost, or something else wrote the marker). Nothing of it applied, nor of any later batch.
 */
export class TargetMarkerMismatchError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_MARKER_MISMATCH', target, message);
  }
}

/** Exactly-once: the target holds a newer owner's fence epoch for the shard; the batch did not apply. */
export class TargetFencedError extends TargetError {
  constructor(target: string, message: string) {
    super('TARGET_FENCED', target, message);
  }
}

/** A write after `close()`. */
export class TargetClosedError extends TargetError {
  constructor(target: string) {
    super('TARGET_CLOSED', target, `target ${target}: the writer is closed`);
  }
}
