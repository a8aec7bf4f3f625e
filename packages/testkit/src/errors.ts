/**
 * Base class for every error thrown by the testkit. `code` is stable and safe to branch on in tests.
 */
export class TestkitError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** redis-server exited or never answered PING in time. The message carries the tail of its log file. */
export class RedisStartError extends TestkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESTKIT_REDIS_START', message, options);
  }
}

/** A cluster did not converge (slots covered, `cluster_state:ok`, one agreed topology) in time. */
export class ClusterStartError extends TestkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESTKIT_CLUSTER_START', message, options);
  }
}

/** No free loopback port could be reserved. */
export class FreePortError extends TestkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESTKIT_FREE_PORT', message, options);
  }
}

/** A bounded wait ran out. */
export class WaitTimeoutError extends TestkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESTKIT_WAIT_TIMEOUT', message, options);
  }
}

/**
 * A network-namespace fixture step failed (`ip`, `nft`, or a server inside a namespace). The message names the
 * command and its stderr; {@link NetnsError.reason} is a short operator-facing cause for a skipped test.
 */
export class NetnsError extends TestkitError {
  constructor(
    message: string,
    /** short cause, e.g. `no CAP_NET_ADMIN`, `nft missing (install nftables)` */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('TESTKIT_NETNS', message, options);
  }
}
