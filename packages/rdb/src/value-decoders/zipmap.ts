import { RdbCorruptError } from '../errors.js';

const BIGLEN = 254;
const END = 0xff;

/**
 * Decodes a zipmap blob (RDB type 9, Redis < 2.6 hashes) into alternating field/value Buffers, with the
 * checks Redis's deep zipmap validation applies: every length and value (plus its free space) inside
 * the blob, at least one pair, the count byte equal to the pair count unless it is 254 ("count it"),
 * and 0xFF as the last byte. `at` is the file offset for errors.
 */
export function decodeZipmap(blob: Buffer, at: number): Buffer[] {
  const bad = (what: string): RdbCorruptError =>
    new RdbCorruptError(at, `zipmap integrity check failed: ${what}`);
  const size = blob.length;
  if (size < 2) throw bad(`blob of ${size} bytes is too short`);
  if (blob[size - 1] !== END) throw bad('missing end marker');
  const last = size - 1;
  const out: Buffer[] = [];
  let p = 1;
  const readLen = (): number => {
    const b = blob[p];
    if (b < BIGLEN) {
      p += 1;
      return b;
    }
    if (b === BIGLEN) {
      if (p + 5 > last) throw bad('length overruns the blob');
      const v = blob.readUInt32LE(p + 1);
      p += 5;
      return v;
    }
    throw bad('unexpected end marker');
  };
  while (blob[p] !== END) {
    const flen = readLen();
    if (p + flen > last) throw bad('field overruns the blob');
    const field = blob.subarray(p, p + flen);
    p += flen;
    if (p >= last) throw bad('value length overruns the blob');
    const vlen = readLen();
    if (p >= last) throw bad('free-space byte overruns the blob');
    const free = blob[p++];
    if (p + vlen + free > last) throw bad('value overruns the blob');
    out.push(field, blob.subarray(p, p + vlen));
    p += vlen + free;
  }
  if (p !== last) throw bad('entries do not end at the end marker');
  if (out.length === 0) throw bad('empty zipmap');
  if (blob[0] !== BIGLEN && blob[0] !== out.length / 2)
    throw bad(`count byte ${blob[0]} != ${out.length / 2} pairs`);
  return out;
}
