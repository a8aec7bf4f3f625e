/**
 * The decoded key values the rewriter turns into commands. Structurally the same as `RdbValue` of
 * `@shardbridge/rdb` (which this package does not depend on): a decoded RDB record can be passed as is.
 */
export interface StreamIdShape {
  ms: bigint;
  seq: bigint;
}

export interface StreamGroupShape {
  name: Buffer;
  lastDeliveredId: StreamIdShape;
  /** null: the source did not know it (the group is then created without ENTRIESREAD) */
  entriesRead: number | null;
  pending: Array<{ id: StreamIdShape; consumer: Buffer | null; deliveryCount: number; deliveryTime: number }>;
  consumers: Array<{ name: Buffer; pending: StreamIdShape[] }>;
}

export interface StreamShape {
  /** entries in ID order; fields and values alternate */
  entries: Array<{ id: StreamIdShape; fields: Buffer[] }>;
  lastId: StreamIdShape;
  maxDeletedId: StreamIdShape;
  entriesAdded: number;
  groups: StreamGroupShape[];
}

export type RewriteValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; value: Buffer[] }
  | { type: 'set'; value: Buffer[] }
  | { type: 'zset'; value: Array<{ member: Buffer; score: number }> }
  /** expireAt: unix ms of a field TTL, null when none */
  | { type: 'hash'; value: Array<{ field: Buffer; value: Buffer; expireAt: number | null }> }
  | { type: 'stream'; value: StreamShape };

export function formatStreamId(id: StreamIdShape): string {
  return `${id.ms}-${id.seq}`;
}
