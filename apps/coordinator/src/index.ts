export { createCoordinator, type Coordinator, type CoordinatorOptions } from './app.js';
export {
  startCoordinator,
  type RunningCoordinator,
  type StartCoordinatorOptions,
} from './start-coordinator.js';
export { openApiDocument } from './openapi.js';
export type { DiscoverShards, DiscoveredShard } from './shard-discovery.js';
export type { ShardStatus, ShardStatusPhase } from './shard-status.js';
export type { PlanState, StoredPlan } from './plan-store.js';
export * from './errors/public-error.js';
