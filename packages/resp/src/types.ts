/**
 * A decoded RESP value. Bulk strings stay Buffers (binary-safe: keys and values are bytes, never text).
 * Simple strings, errors and verbatim strings are decoded as latin1-safe `string`s.
 */
export type RespValue =
  | { kind: 'simple'; value: string }
  | { kind: 'error'; value: string }
  | { kind: 'integer'; value: bigint }
  | { kind: 'bulk'; value: Buffer | null }
  | { kind: 'array'; value: RespValue[] | null }
  // RESP3 only
  | { kind: 'null' }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'double'; value: number }
  | { kind: 'bignum'; value: string }
  | { kind: 'verbatim'; format: string; value: Buffer }
  | { kind: 'map'; value: Array<[RespValue, RespValue]> }
  | { kind: 'set'; value: RespValue[] }
  | { kind: 'attribute'; value: Array<[RespValue, RespValue]> }
  | { kind: 'push'; value: RespValue[] };

/**
 * One complete frame as it appeared in the stream.
 * `byteLength` is the exact number of stream bytes the frame occupied (type byte through final CRLF),
 * so a replication consumer can advance its offset by it.
 */
export interface RespFrame {
  value: RespValue;
  byteLength: number;
}
