export { preflightPlan, preflightTarget, type PreflightOptions } from './preflight-plan.js';
export { nonEmptyDbs } from './keyspace-checks.js';
export { formatPreflightReport } from './format-report.js';
export { rdbVersionFor } from './rdb-version.js';
export { keySlotOf } from './key-slot.js';
export { PREFLIGHT_KEY_PREFIX } from './target-checks.js';
export type {
  PreflightAuth,
  PreflightMappedBy,
  PreflightNode,
  PreflightPermission,
  PreflightProblem,
  PreflightReport,
  PreflightSourceNode,
  PreflightTargetNode,
} from './preflight-report.js';
