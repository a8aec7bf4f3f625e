export * from './checkpoint/checkpoint-store.js';
export * from './checkpoint/file-checkpoint-store.js';
export * from './shard-progress.js';
export * from './shard-sync.js';
export * from './sync-errors.js';
