import { Crc64 } from './crc64.js';

const TRAILER_SIZE = 2 + 8;

/**
 * Lays out a DUMP/RESTORE payload without its checksum: `typeByte`, the value bytes exactly as an RDB
 * stores them, the RDB version as u16 little-endian, then 8 bytes reserved for the CRC-64 that
 * {@link sealRestorePayload} writes. Split in two so the parser can defer the CRC until asked.
 */
export function layoutRestorePayload(typeByte: number, valueBytes: Uint8Array, rdbVersion: number): Buffer {
  const out = Buffer.allocUnsafe(1 + valueBytes.length + TRAILER_SIZE);
  out[0] = typeByte;
  out.set(valueBytes, 1);
  out.writeUInt16LE(rdbVersion, 1 + valueBytes.length);
  return out;
}

/** Writes the CRC-64 (u64 little-endian) of everything before the last 8 bytes into them. */
export function sealRestorePayload(payload: Buffer): Buffer {
  const crcAt = payload.length - 8;
  new Crc64().update(payload, 0, crcAt).writeLE(payload, crcAt);
  return payload;
}

/**
 * A DUMP/RESTORE payload: `typeByte`, the value bytes exactly as an RDB stores them, the RDB version as
 * u16 little-endian, then CRC-64 (u64 little-endian) of everything before it. A server accepts it when
 * its own RDB version is >= `rdbVersion`.
 */
export function buildRestorePayload(typeByte: number, valueBytes: Uint8Array, rdbVersion: number): Buffer {
  return sealRestorePayload(layoutRestorePayload(typeByte, valueBytes, rdbVersion));
}
