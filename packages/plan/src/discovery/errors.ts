/**
 * Errors raised while discovering a source's shards. Each carries a stable machine `code`, a message that names
 * the addresses involved and the fix, and optional structured `details` for an API to return as-is. Messages
 * never contain a password.
 */

export type DiscoveryErrorCode =
  /** no seed answered; details.seeds lists each seed and why */
  | 'DISCOVERY_NO_SEED'
  /** a master (or the standalone seed) does not answer at its reachable address; details.unreachable */
  | 'DISCOVERY_UNREACHABLE'
  /** AUTH was refused, or the server wants a password that was not given */
  | 'DISCOVERY_AUTH'
  /** the TLS handshake failed (client certificate required or refused, untrusted server, name mismatch) */
  | 'DISCOVERY_TLS'
  /** some slots have no master; details.missing lists the ranges */
  | 'DISCOVERY_SLOTS_UNCOVERED'
  /** a standalone seed is a replica; details.master is the address it replicates from */
  | 'DISCOVERY_SEED_IS_REPLICA'
  /** `type` in the plan does not match the server (cluster node given as standalone or vice versa) */
  | 'DISCOVERY_WRONG_TYPE'
  /** the address a natMap entry leads to is a different cluster node than the one announced there */
  | 'DISCOVERY_WRONG_NODE'
  /** `source.shards` (manual mode) is not a set of masters with disjoint slots; details say which entry */
  | 'DISCOVERY_SHARDS_INVALID'
  /** `readFrom: "replica"` and a shard has no reachable replica with its master link up */
  | 'DISCOVERY_NO_REPLICA'
  /** the topology reply could not be understood */
  | 'DISCOVERY_TOPOLOGY'
  /** the plan's source is an RDB file: there are no shards to discover, it is imported as one job */
  | 'DISCOVERY_RDB_SOURCE';

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';

  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
