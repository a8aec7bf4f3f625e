/**
 * Errors of a replication link. `code` is stable for programs; `message` names the link's label/address and
 * the likely fix for people. `retryable` tells a supervisor whether reconnecting later can help without a
 * configuration change.
 */
export abstract class ReplicationError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  /**
   * The server accepted the TCP connection before the link failed: the address is right, so a supervisor may
   * retry even a first link (a NAT gateway or load balancer dropping a new flow) instead of failing at once.
   */
  readonly reachedServer: boolean;
  constructor(message: string, options?: { cause?: unknown; reachedServer?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.reachedServer = options?.reachedServer ?? false;
  }
}

/** TCP/TLS connect plus handshake did not finish within `connectTimeoutMs`. */
export class ReplConnectTimeoutError extends ReplicationError {
  readonly code = 'REPL_CONNECT_TIMEOUT';
  readonly retryable = true;
}

/** Nothing accepts connections at the address (ECONNREFUSED), or it is otherwise unreachable. */
export class ReplConnectRefusedError extends ReplicationError {
  readonly code = 'REPL_CONNECT_REFUSED';
  readonly retryable = true;
}

/** The TLS handshake failed (untrusted certificate, wrong servername, a port that does not speak TLS). */
export class ReplTlsHandshakeError extends ReplicationError {
  readonly code = 'REPL_TLS_HANDSHAKE';
  readonly retryable = false;
}

/** `AUTH` was rejected. */
export class ReplAuthFailedError extends ReplicationError {
  readonly code = 'REPL_AUTH_FAILED';
  readonly retryable = false;
}

/** The master requires a password and none was configured (`-NOAUTH`). */
export class ReplNoAuthError extends ReplicationError {
  readonly code = 'REPL_NOAUTH';
  readonly retryable = false;
}

/**
 * The master refused `REPLCONF`/`PSYNC` (unknown/renamed command, ACL `-NOPERM`) or is not ready to serve a
 * replica (`-LOADING`, `-NOMASTERLINK`: then `retryable` is true).
 */
export class ReplPsyncRefusedError extends ReplicationError {
  readonly code = 'REPL_PSYNC_REFUSED';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly serverReply: string,
  ) {
    super(message);
  }
}

/** No byte from the master for `readTimeoutMs` after the handshake. */
export class ReplReadTimeoutError extends ReplicationError {
  readonly code = 'REPL_READ_TIMEOUT';
  readonly retryable = true;
}

/** The master (or something in between) closed the connection. */
export class ReplConnectionClosedError extends ReplicationError {
  readonly code = 'REPL_CONNECTION_CLOSED';
  readonly retryable = true;
}

/** The master sent bytes that do not fit the replication protocol. */
export class ReplProtocolError extends ReplicationError {
  readonly code = 'REPL_PROTOCOL';
  readonly retryable = true;
}
