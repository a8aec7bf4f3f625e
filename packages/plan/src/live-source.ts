import type { LiveSourceSpec, Plan } from './plan-schema.js';

/** Code paths that replicate a live source were handed a plan whose source is an RDB file. */
export class RdbSourceNotLiveError extends Error {
  override name = 'RdbSourceNotLiveError';
  readonly code = 'PLAN_SOURCE_IS_RDB';

  constructor(readonly path: string) {
    super(
      `source is the RDB file ${path}, not a live Redis: import it with \`shardbridge run <plan>\` or ` +
        '`shardbridge import <file.rdb>`',
    );
  }
}

/**
 * The plan's source, which callers that replicate (discovery, shard jobs, `run --direct` of a live source) need to
 * be a live Redis. @throws RdbSourceNotLiveError for `source.type: "rdb"`
 */
export function liveSourceOf(plan: Plan): LiveSourceSpec {
  if (plan.source.type === 'rdb') throw new RdbSourceNotLiveError(plan.source.path);
  return plan.source;
}
