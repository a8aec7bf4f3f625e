/** Numbers from Redis's src/rdb.h (and Valkey's): value types and opcodes as they appear on disk. */

/** Highest RDB version this parser understands (Redis 7.4 / 8.x write 12, Valkey 8.0 writes 11). */
export const RDB_MAX_KNOWN_VERSION = 12;

export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

export const RdbOpcode = {
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** rdbIsObjectType: 0..7 and 9..25 (8 was never assigned). */
export function isValueType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 25);
}

/** Lowest byte value treated as an opcode rather than a value type. */
export const RDB_OPCODE_RANGE_START = 240;

/** Sub-opcodes of module-serialized values (RDB_MODULE_OPCODE_*). */
export const RdbModuleOpcode = {
  EOF: 0,
  SINT: 1,
  UINT: 2,
  FLOAT: 3,
  DOUBLE: 4,
  STRING: 5,
} as const;

/** Quicklist v2 node containers. */
export const QuicklistContainer = {
  PLAIN: 1,
  PACKED: 2,
} as const;
