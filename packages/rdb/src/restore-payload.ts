import { Crc64 } from './crc64.js';

/**
 * Builds a DUMP/RESTORE payload: `typeByte`, the value bytes exactly as an RDB stores them, the RDB
 * version as u16 little-endian, then CRC-64 (u64 little-endian) of everything before it.
 * A server accepts the payload when its own RDB version is >= `rdbVersion`.
 */
export function buildRestorePayload(typeByte: number, valueBytes: Uint8Array, rdbVersion: number): Buffer {
  const out = Buffer.allocUnsafe(1 + valueBytes.length + 2 + 8);
  out[0] = typeByte;
  out.set(valueBytes, 1);
  const versionAt = 1 + valueBytes.length;
  out.writeUInt16LE(rdbVersion, versionAt);
  new Crc64().update(out, 0, versionAt + 2).writeLE(out, versionAt + 2);
  return out;
}
