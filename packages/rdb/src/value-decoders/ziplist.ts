import { RdbCorruptError } from '../errors.js';
import { int64Entry, type PackedEntry } from './packed-entry.js';

const HEADER_SIZE = 10;
const END = 0xff;

/**
 * Decodes a ziplist blob (RDB types 10, 12, 13 and quicklist v1 nodes) with the integrity checks Redis
 * applies on load: zlbytes/zltail/zllen agree with the content, every entry lies inside the blob,
 * prevlen fields chain correctly, and the blob ends with 0xFF right after the last entry.
 * `at` is the file offset used in error messages (the blob's string in the file).
 */
export function decodeZiplist(blob: Buffer, at: number): PackedEntry[] {
  const bad = (what: string): RdbCorruptError =>
    new RdbCorruptError(at, `ziplist integrity check failed: ${what}`);
  const size = blob.length;
  if (size < HEADER_SIZE + 1) throw bad(`blob of ${size} bytes is shorter than a header`);
  if (blob.readUInt32LE(0) !== size) throw bad(`zlbytes ${blob.readUInt32LE(0)} != blob size ${size}`);
  if (blob[size - 1] !== END) throw bad('missing end marker');
  const zltail = blob.readUInt32LE(4);
  const zllen = blob.readUInt16LE(8);
  const last = size - 1;
  const out: PackedEntry[] = [];
  let p = HEADER_SIZE;
  let prevEntryLen = 0;
  let lastEntryStart = HEADER_SIZE;
  while (p < last) {
    const start = p;
    let prevlen: number;
    if (blob[p] < 254) {
      prevlen = blob[p];
      p += 1;
    } else if (blob[p] === 254) {
      if (p + 5 > last) throw bad('prevlen overruns the blob');
      prevlen = blob.readUInt32LE(p + 1);
      p += 5;
    } else {
      throw bad('unexpected end marker inside entries');
    }
    if (prevlen !== prevEntryLen) throw bad(`prevlen ${prevlen} != previous entry size ${prevEntryLen}`);
    if (p >= last) throw bad('entry header overruns the blob');
    const enc = blob[p];
    const kind = enc >> 6;
    if (kind !== 3) {
      let len: number;
      if (kind === 0) {
        len = enc & 0x3f;
        p += 1;
      } else if (kind === 1) {
        if (p + 2 > last) throw bad('entry header overruns the blob');
        len = ((enc & 0x3f) << 8) | blob[p + 1];
        p += 2;
      } else {
        if (enc !== 0x80 || p + 5 > last) throw bad(`bad string encoding 0x${enc.toString(16)}`);
        len = blob.readUInt32BE(p + 1);
        p += 5;
      }
      if (p + len > last) throw bad(`string entry of ${len} bytes overruns the blob`);
      out.push(blob.subarray(p, p + len));
      p += len;
    } else {
      p += 1;
      let width: number;
      switch (enc) {
        case 0xc0:
          width = 2;
          break;
        case 0xd0:
          width = 4;
          break;
        case 0xe0:
          width = 8;
          break;
        case 0xf0:
          width = 3;
          break;
        case 0xfe:
          width = 1;
          break;
        default:
          if (enc >= 0xf1 && enc <= 0xfd) {
            width = 0;
            break;
          }
          throw bad(`bad integer encoding 0x${enc.toString(16)}`);
      }
      if (p + width > last) throw bad('integer entry overruns the blob');
      if (width === 0) out.push((enc & 0x0f) - 1);
      else if (width === 8) out.push(int64Entry(blob.readBigInt64LE(p)));
      else out.push(blob.readIntLE(p, width));
      p += width;
    }
    prevEntryLen = p - start;
    lastEntryStart = start;
  }
  if (p !== last) throw bad('entries do not end at the end marker');
  if (zltail !== lastEntryStart) throw bad(`zltail ${zltail} != last entry offset ${lastEntryStart}`);
  if (zllen !== 0xffff && zllen !== out.length) throw bad(`zllen ${zllen} != ${out.length} entries`);
  return out;
}
