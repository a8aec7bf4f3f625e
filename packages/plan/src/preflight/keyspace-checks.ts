import type { Plan } from '../plan-schema.js';
import { dbsUnfitForCluster } from '../sync-settings.js';
import type { PreflightProblem } from './preflight-report.js';

/** The dbs that hold keys, from INFO's keyspace section (`db3:keys=10,expires=0,avg_ttl=0`), in order. */
export function nonEmptyDbs(info: Map<string, string>): number[] {
  const dbs: number[] = [];
  for (const [field, value] of info) {
    const match = /^db(\d+)$/.exec(field);
    const keys = /(?:^|,)keys=(\d+)/.exec(value);
    if (match && keys && Number(keys[1]) > 0) dbs.push(Number(match[1]));
  }
  return dbs.sort((a, b) => a - b);
}

/**
 * A standalone source whose synced dbs other than 0 are not all mapped to db 0, into a cluster target (which
 * only has db 0): the shard would fail at its first key there, so the plan is refused up front.
 */
export function clusterDbProblem(
  plan: Plan,
  address: string,
  sourceDbs: readonly number[],
): PreflightProblem | null {
  if (plan.target.type !== 'cluster') return null;
  const unfit = dbsUnfitForCluster(plan.filter, sourceDbs);
  if (unfit.length === 0) return null;
  return {
    side: 'target',
    address,
    code: 'TARGET_DB_UNSUPPORTED',
    message:
      `the cluster target only has db 0, but the source ${address} holds keys in db ${unfit.join(', ')}, ` +
      'which the plan syncs unmapped',
    fix:
      `map them to db 0 with "filter": {"dbMap": {${unfit.map((db) => `"${db}": 0`).join(', ')}}}, ` +
      `or leave them out with "filter": {"dbs": {"deny": [${unfit.join(', ')}]}}`,
  };
}

/** `targetMode: "fail-if-not-empty"` and a target node holds keys. */
export function targetNotEmptyProblem(address: string, dbs: readonly number[]): PreflightProblem {
  return {
    side: 'target',
    address,
    code: 'TARGET_NOT_EMPTY',
    message: `targetMode is "fail-if-not-empty" and target node ${address} holds keys in db ${dbs.join(', ')}`,
    fix: 'empty the target, or choose targetMode "replace", "skip-existing" or "flush-first"',
  };
}
