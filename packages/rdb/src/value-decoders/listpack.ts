import { RdbCorruptError } from '../errors.js';
import { int64Entry, type PackedEntry } from './packed-entry.js';

const HEADER_SIZE = 6;
const END = 0xff;
const UNKNOWN_COUNT = 0xffff;

function backlenSize(entryLen: number): number {
  if (entryLen < 128) return 1;
  if (entryLen < 16384) return 2;
  if (entryLen < 2097152) return 3;
  if (entryLen < 268435456) return 4;
  return 5;
}

/**
 * Decodes a listpack blob (hash/zset/set listpacks, quicklist v2 nodes, stream nodes) with Redis's
 * load-time integrity checks: total-bytes header equals the blob size, every entry and its back-length
 * lie inside the blob and agree, the element count matches the header (unless 65535 = unknown), and
 * the blob ends with 0xFF. `at` is the file offset used in error messages.
 */
export function decodeListpack(blob: Buffer, at: number): PackedEntry[] {
  const bad = (what: string): RdbCorruptError =>
    new RdbCorruptError(at, `listpack integrity check failed: ${what}`);
  const size = blob.length;
  if (size < HEADER_SIZE + 1) throw bad(`blob of ${size} bytes is shorter than a header`);
  if (blob.readUInt32LE(0) !== size) throw bad(`total bytes ${blob.readUInt32LE(0)} != blob size ${size}`);
  if (blob[size - 1] !== END) throw bad('missing end marker');
  const count = blob.readUInt16LE(4);
  const last = size - 1;
  const out: PackedEntry[] = [];
  let p = HEADER_SIZE;
  while (p < last) {
    const start = p;
    const b = blob[p];
    if (b < 0x80) {
      out.push(b);
      p += 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      p += 1;
      if (p + len > last) throw bad('string entry overruns the blob');
      out.push(blob.subarray(p, p + len));
      p += len;
    } else if ((b & 0xe0) === 0xc0) {
      if (p + 2 > last) throw bad('integer entry overruns the blob');
      const v = ((b & 0x1f) << 8) | blob[p + 1];
      out.push(v >= 4096 ? v - 8192 : v);
      p += 2;
    } else if ((b & 0xf0) === 0xe0) {
      if (p + 2 > last) throw bad('string header overruns the blob');
      const len = ((b & 0x0f) << 8) | blob[p + 1];
      p += 2;
      if (p + len > last) throw bad('string entry overruns the blob');
      out.push(blob.subarray(p, p + len));
      p += len;
    } else {
      p += 1;
      switch (b) {
        case 0xf0: {
          if (p + 4 > last) throw bad('string header overruns the blob');
          const len = blob.readUInt32LE(p);
          p += 4;
          if (p + len > last) throw bad('string entry overruns the blob');
          out.push(blob.subarray(p, p + len));
          p += len;
          break;
        }
        case 0xf1:
        case 0xf2:
        case 0xf3: {
          const width = b - 0xef;
          if (p + width > last) throw bad('integer entry overruns the blob');
          out.push(blob.readIntLE(p, width));
          p += width;
          break;
        }
        case 0xf4:
          if (p + 8 > last) throw bad('integer entry overruns the blob');
          out.push(int64Entry(blob.readBigInt64LE(p)));
          p += 8;
          break;
        default:
          throw bad(`bad entry encoding 0x${b.toString(16)}`);
      }
    }
    const entryLen = p - start;
    const n = backlenSize(entryLen);
    if (p + n > last) throw bad('entry back-length overruns the blob');
    let backlen = 0;
    for (let i = 0; i < n; i++) backlen = backlen * 128 + (blob[p + i] & 127);
    if (backlen !== entryLen) throw bad(`back-length ${backlen} != entry size ${entryLen}`);
    p += n;
  }
  if (p !== last) throw bad('entries do not end at the end marker');
  if (count !== UNKNOWN_COUNT && count !== out.length)
    throw bad(`header count ${count} != ${out.length} entries`);
  return out;
}
