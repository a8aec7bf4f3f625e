export * from './rdb-import.js';
export * from './rdb-import-errors.js';
export * from './target-options.js';
export * from './verify-rdb-file.js';
