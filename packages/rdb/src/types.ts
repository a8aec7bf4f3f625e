import type { BigKeyInfo, BigValuePart } from './big-value/big-value-stream.js';

/** RDB object types as they appear in the file (the `type` byte before a key). */
export type RdbValueType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamValue {
  /** Entries in ID order; deleted entries omitted. Fields/values as alternating Buffers. */
  entries: Array<{ id: StreamId; fields: Buffer[] }>;
  length: number;
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: number;
  groups: Array<{
    name: Buffer;
    lastDeliveredId: StreamId;
    /**
     * null when the server does not know it (stored as "invalid"); for streams written without it
     * (type 15, RDB < 10) estimated from lastDeliveredId exactly as the server does on load
     */
    entriesRead: number | null;
    pending: Array<{ id: StreamId; consumer: Buffer | null; deliveryCount: number; deliveryTime: number }>;
    consumers: Array<{ name: Buffer; seenTime: number; activeTime: number | null; pending: StreamId[] }>;
  }>;
}

export type RdbValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; value: Buffer[] }
  | { type: 'set'; value: Buffer[] }
  /** score is a JS number; -0, Infinity, -Infinity preserved */
  | { type: 'zset'; value: Array<{ member: Buffer; score: number }> }
  /** expireAt: unix ms of the field TTL, null when none */
  | { type: 'hash'; value: Array<{ field: Buffer; value: Buffer; expireAt: number | null }> }
  | { type: 'stream'; value: StreamValue }
  | { type: 'module'; moduleId: bigint; value: null };

/** One key as read from the RDB. */
export interface RdbKeyRecord {
  db: number;
  key: Buffer;
  /** absolute expiry in unix ms, null when the key is persistent */
  expireAt: number | null;
  /** LRU idle seconds (RDB_OPCODE_IDLE) when present */
  idle: number | null;
  /** LFU frequency (RDB_OPCODE_FREQ) when present */
  freq: number | null;
  /** decoded value; omitted (undefined) when the parser runs with `decode: false` */
  value?: RdbValue;
  /**
   * A DUMP/RESTORE payload for this value: the type byte and value bytes exactly as in the file,
   * then the file's RDB version (u16 LE) and a CRC64 (u64 LE) over everything before it.
   */
  restorePayload: Buffer;
  /** RDB version the payload carries */
  rdbVersion: number;
}

/** Callbacks the streaming parser calls, in file order. All optional except onKey. */
export interface RdbHandlers {
  onHeader?(rdbVersion: number): void;
  onAux?(key: Buffer, value: Buffer): void;
  onSelectDb?(db: number): void;
  onResizeDb?(dbSize: number, expiresSize: number): void;
  /** Lua function library source (FUNCTION2 opcode, or legacy FUNCTION) */
  onFunction?(code: Buffer): void;
  onModuleAux?(moduleId: bigint): void;
  /** RDB_OPCODE_SLOT_INFO (cluster-mode files, Redis 8 / Valkey): key-count hints for one slot */
  onSlotInfo?(slot: number, slotSize: number, expiresSlotSize: number): void;
  onKey(record: RdbKeyRecord): void;
  /**
   * A key whose value is over `bigKeyThreshold` starts: its value comes in parts ({@link onBigKeyPart}) and ends
   * with {@link onBigKeyEnd}, instead of one {@link onKey} record (and without a RESTORE payload). All three are
   * needed for big-key streaming; without them every key is read whole.
   */
  onBigKeyStart?(info: BigKeyInfo): void;
  onBigKeyPart?(part: BigValuePart): void;
  onBigKeyEnd?(): void;
  /** end of file reached; checksum verified unless it was 0 */
  onEnd?(info: { checksum: bigint; bytes: number }): void;
}
