/** Error codes after which a shard reconnects and resumes from its checkpoint instead of failing. */
const TRANSIENT_CODES = new Set([
  'REPL_CONNECTION_CLOSED',
  'REPL_READ_TIMEOUT',
  'REPL_CONNECT_REFUSED',
  'REPL_CONNECT_TIMEOUT',
  'TARGET_CONNECTION_LOST',
  // Only after the shard streamed once (ShardSync's rule): the target that took its writes is restarting, failing
  // over or briefly unreachable. A wrong address, password or TLS setting fails the first link at once instead.
  'TARGET_CONNECT_FAILED',
  // the shard's master is gone and no new one could be confirmed yet (a failover in progress)
  'SOURCE_RELOCATE_FAILED',
]);

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

export function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  if (TRANSIENT_CODES.has(code)) return true;
  // -LOADING, or -NOMASTERLINK from a replica (a demoted master) that lost its own master: it passes.
  return code === 'REPL_PSYNC_REFUSED' && (error as { retryable?: unknown }).retryable === true;
}

/** The shard gave up: wraps the cause with the shard's name so every message says which shard failed. */
export class ShardSyncError extends Error {
  override name = 'ShardSyncError';
  readonly code: string;
  constructor(
    readonly shardId: string,
    override readonly cause: unknown,
  ) {
    super(`shard ${shardId}: ${(cause as Error)?.message ?? String(cause)}`);
    this.code = errorCode(cause);
  }
}

/** A module value (RedisJSON, RediSearch, ...) would need the same module on the target and its own encoder. */
export class ModuleValueError extends Error {
  override name = 'ModuleValueError';
  readonly code = 'SYNC_MODULE_VALUE';
  constructor(db: number, key: Buffer) {
    super(
      `key ${JSON.stringify(key.toString('latin1'))} in db ${db} holds a module value, which ShardBridge cannot ` +
        'replicate yet; exclude it or migrate it with the module’s own tooling',
    );
  }
}

// Lives with the full-sync loader, which knows what the target holds when the RDB turns out damaged.
export { SourceRdbError } from './full-sync/source-rdb-error.js';

/** `targetMode: "fail-if-not-empty"` and the target holds keys: nothing was written. */
export class TargetNotEmptyError extends Error {
  override name = 'TargetNotEmptyError';
  readonly code = 'TARGET_NOT_EMPTY';
  constructor(nodes: ReadonlyArray<{ address: string; dbs: readonly number[] }>) {
    super(
      `targetMode is "fail-if-not-empty" and the target holds keys: ` +
        nodes.map(({ address, dbs }) => `${address} in db ${dbs.join(', ')}`).join('; ') +
        '. Nothing was written — empty the target, or choose targetMode "replace", "skip-existing" or "flush-first"',
    );
  }
}

/** The job asks for a sync mode this worker does not run. */
export class SyncModeUnsupportedError extends Error {
  override name = 'SyncModeUnsupportedError';
  readonly code = 'SYNC_MODE_UNSUPPORTED';
  constructor(mode: string) {
    super(
      `plan mode "${mode}" is not supported by this worker yet: use mode "sync" or "full", or run a worker ` +
        'version that supports it',
    );
  }
}

/** A target mode that this shard cannot honour safely (e.g. flushing from one shard of a cluster source). */
export class TargetModeUnsupportedError extends Error {
  override name = 'TargetModeUnsupportedError';
  readonly code = 'TARGET_MODE_UNSUPPORTED';
}

/** `fail-if-not-empty` could not learn whether the target holds keys: nothing was written. */
export class TargetKeyspaceUnreadableError extends Error {
  override name = 'TargetKeyspaceUnreadableError';
  readonly code = 'TARGET_KEYSPACE_UNREADABLE';
}
