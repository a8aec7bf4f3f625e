/**
 * The narrow entry point `@shardbridge/worker/engine`: what runs one shard in this process (`run --direct`,
 * `import`) without the queue side (BullMQ, workers, verification jobs). Importing the package root loads
 * all of it; a process that only syncs one shard keeps its resident memory smaller with this one.
 */
export * from './checkpoint/checkpoint-store.js';
export * from './checkpoint/file-checkpoint-store.js';
export * from './checkpoint/memory-checkpoint-store.js';
export * from './shard-progress.js';
export * from './shard-engine.js';
export * from './sync-errors.js';
export * from './rdb-import/index.js';
