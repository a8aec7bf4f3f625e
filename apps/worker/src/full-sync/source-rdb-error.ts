import type { RdbError } from '@shardbridge/rdb';
import type { TargetMode } from '@shardbridge/plan';

/** What one full sync's loader had written when the RDB turned out damaged. */
export interface DamagedRdbWrites {
  /** keys handed to the target from this RDB before the damage was found */
  keys: number;
  /** the plan's targetMode: decides whether the next full sync overwrites those keys */
  targetMode: TargetMode;
}

/**
 * The RDB the source sent is damaged (CRC-64 mismatch, truncated, bad encoding): names the source, keeps the
 * parser's code and byte offset, and says what the target holds. Not transient: the shard fails rather than
 * retrying on its own (each attempt costs the source a fork and a whole RDB transfer, and damage that comes from
 * the source's data repeats). No checkpoint survives a FULLRESYNC, so the next attempt is a full resync.
 */
export class SourceRdbError extends Error {
  override name = 'SourceRdbError';
  readonly code: RdbError['code'];

  constructor(source: string, cause: RdbError, written: DamagedRdbWrites) {
    super(`the RDB sent by ${source} is damaged: ${cause.message}. ${targetState(written)}`, { cause });
    this.code = cause.code;
  }
}

function targetState({ keys, targetMode }: DamagedRdbWrites): string {
  const held =
    keys === 0
      ? 'Nothing of it was written to the target'
      : `The target holds the ${keys} keys written from it before that byte, and any of them may hold a damaged ` +
        'value';
  const check = 'if it fails again, check the source (redis-check-rdb on its dump, INFO persistence)';
  if (targetMode === 'skip-existing' && keys > 0) {
    return (
      `${held}; no checkpoint was kept, but with targetMode "skip-existing" the next full resync keeps keys the ` +
      `target has: empty the target (or compare with shardbridge verify) before running the sync again — ${check}`
    );
  }
  if (targetMode === 'fail-if-not-empty' && keys > 0) {
    return (
      `${held}; no checkpoint was kept, and with targetMode "fail-if-not-empty" the next attempt refuses the ` +
      `keys this one wrote: empty the target, then run the sync again — ${check}`
    );
  }
  return (
    `${held}; no checkpoint was kept, so the next attempt is a full resync that rewrites every key: run the sync ` +
    `again — ${check}`
  );
}
