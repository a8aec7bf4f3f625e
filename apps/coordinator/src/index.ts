export {
  createCoordinator,
  DEFAULT_BODY_LIMIT_BYTES,
  type Coordinator,
  type CoordinatorOptions,
} from './app.js';
export {
  startCoordinator,
  type RunningCoordinator,
  type StartCoordinatorOptions,
  type CoordinatorTlsOptions,
} from './start-coordinator.js';
export { DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW_MS, type RateLimitOptions } from './rate-limit.js';
export { openApiDocument } from './openapi.js';
export type { DiscoverShards, DiscoveredShard } from './shard-discovery.js';
export type { ShardStatus, ShardStatusPhase } from './shard-status.js';
export type { PlanState, StoredPlan } from './plan-store.js';
export * from './errors/public-error.js';
