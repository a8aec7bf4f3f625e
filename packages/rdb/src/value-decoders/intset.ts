import { RdbCorruptError } from '../errors.js';
import { int64Entry, type PackedEntry } from './packed-entry.js';

/**
 * Decodes an intset blob (RDB type 11): u32 encoding (2, 4 or 8 bytes per member), u32 count, then the
 * members little-endian. The blob size must equal 8 + encoding * count. `at` is the file offset for errors.
 */
export function decodeIntset(blob: Buffer, at: number): PackedEntry[] {
  const bad = (what: string): RdbCorruptError =>
    new RdbCorruptError(at, `intset integrity check failed: ${what}`);
  if (blob.length < 8) throw bad(`blob of ${blob.length} bytes is shorter than a header`);
  const width = blob.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) throw bad(`bad encoding ${width}`);
  const count = blob.readUInt32LE(4);
  if (8 + width * count !== blob.length)
    throw bad(`${count} members of ${width} bytes do not fill ${blob.length} bytes`);
  const out: PackedEntry[] = new Array(count);
  for (let i = 0, p = 8; i < count; i++, p += width) {
    out[i] = width === 8 ? int64Entry(blob.readBigInt64LE(p)) : blob.readIntLE(p, width);
  }
  return out;
}
