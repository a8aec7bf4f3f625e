export * from './types.js';
export * from './errors.js';
export { RdbParser, type RdbParserOptions } from './rdb-parser.js';
export type { BigKeyInfo, BigValuePart } from './big-value/big-value-stream.js';
export { crc64, Crc64 } from './crc64.js';
export { lzfDecompress, LzfError } from './lzf.js';
export { buildRestorePayload } from './restore-payload.js';
export { RdbType, RdbOpcode, RDB_MAX_KNOWN_VERSION } from './rdb-constants.js';
export {
  bytesToJson,
  functionsLine,
  recordToCanonicalLine,
  valueToCanonical,
  type JsonBytes,
} from './canonical-jsonl.js';
export { inspectRdb, type InspectOptions, type InspectSummary } from './inspect-rdb.js';
export { inspectRdbFile } from './inspect-rdb-file.js';
