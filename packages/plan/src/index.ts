export * from './host-port.js';
export * from './secret-reference.js';
export * from './plan-schema.js';
export * from './plan-validation.js';
export * from './shard-job.js';
export * from './discovery/index.js';
export * from './nat-map.js';
