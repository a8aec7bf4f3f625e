export * from './errors.js';
export { freePort, type FreePortOptions } from './free-port.js';
export { containerRuntimeAvailable } from './container-runtime.js';
export { parseInfo } from './info.js';
export { liveProcessCount } from './process-registry.js';
export type { RedisConfig } from './redis-config.js';
export { startRedis, type RedisServer, type StartRedisOptions } from './redis-server.js';
