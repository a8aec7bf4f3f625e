import { describeKey } from '@shardbridge/target';

/**
 * A replicated command names keys on both sides of the plan's key filter, and cutting it down would change its
 * meaning (or the plan asks not to): writing it whole or not at all would both make the target wrong.
 */
export class FilterMultiKeyError extends Error {
  override name = 'FilterMultiKeyError';
  readonly code = 'FILTER_MULTI_KEY';
  constructor(command: string, kept: readonly Buffer[], dropped: readonly Buffer[], splittable: boolean) {
    const list = (keys: readonly Buffer[]) => keys.map((key) => describeKey(key)).join(', ');
    super(
      `the source ran ${command} on keys the filter keeps (${list(kept)}) and keys it leaves out ` +
        `(${list(dropped)}): ` +
        (splittable
          ? 'set filter.multiKeyPolicy to "split" to write only the kept keys, or '
          : `${command} cannot be split; `) +
        'change filter.keys so that the keys of such commands fall on one side, then resync the shard',
    );
  }
}

/** A command moves data between dbs (SWAPDB, MOVE, COPY … DB) in a way the plan's db filter or dbMap cannot follow. */
export class FilterDbCrossingError extends Error {
  override name = 'FilterDbCrossingError';
  readonly code = 'FILTER_DB_CROSSING';
  constructor(command: string, detail: string) {
    super(
      `the source ran ${command}, which ${detail}; the plan's filter.dbs/filter.dbMap cannot map it — ` +
        'sync every db involved unmapped (or to a standalone target), then resync the shard',
    );
  }
}
