/**
 * CRC-64 as Redis computes it for RDB trailers and DUMP payloads ("Jones" polynomial 0xad93d23594c935a9,
 * reflected input and output, initial value 0, no final xor). Check value: crc64('123456789') =
 * 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two uint32 halves so the per-byte loop stays in small-integer arithmetic.
 */

const REFLECTED_POLY_HI = 0x95ac9329;
const REFLECTED_POLY_LO = 0xac4bc9b5;

/** Slicing-by-8 tables: `TABLE_*[k * 256 + b]` is the CRC of byte b followed by k zero bytes. */
const TABLE_HI = new Uint32Array(8 * 256);
const TABLE_LO = new Uint32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ REFLECTED_POLY_HI) >>> 0;
      lo = (lo ^ REFLECTED_POLY_LO) >>> 0;
    }
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const prevHi = TABLE_HI[(k - 1) * 256 + i];
    const prevLo = TABLE_LO[(k - 1) * 256 + i];
    const idx = prevLo & 0xff;
    TABLE_LO[k * 256 + i] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]) >>> 0;
    TABLE_HI[k * 256 + i] = ((prevHi >>> 8) ^ TABLE_HI[idx]) >>> 0;
  }
}

/** Word-at-a-time reads need little-endian memory order (every platform Node ships on, but checked). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes the typed-array view costs more than it saves. */
const WORD_PATH_FROM = 64;

/** Running CRC-64 state for hashing a file piece by piece without BigInt per byte. */
export class Crc64 {
  private hi = 0;
  private lo = 0;

  constructor(seed?: bigint) {
    // Without a seed no BigInt arithmetic: a Crc64 is built per RESTORE payload, and BigInt ops cost per key.
    if (seed === undefined || seed === 0n) return;
    this.hi = Number((seed >> 32n) & 0xffffffffn);
    this.lo = Number(seed & 0xffffffffn);
  }

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    if (LITTLE_ENDIAN && end - start >= WORD_PATH_FROM) {
      // Bytes up to an 8-byte boundary of the underlying memory one by one, then whole 64-bit words read
      // through an Int32Array view (two loads instead of eight; profiled as the full sync's hottest loop).
      const lead = Math.min(end, i + ((8 - ((buf.byteOffset + i) & 7)) & 7));
      for (; i < lead; i++) {
        const idx = (lo ^ buf[i]) & 0xff;
        lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx];
        hi = (hi >>> 8) ^ TABLE_HI[idx];
      }
      const words = (end - i) >>> 3;
      const view = new Int32Array(buf.buffer, buf.byteOffset + i, words * 2);
      for (let w = 0; w < view.length; w += 2) {
        const xl = lo ^ view[w];
        const xh = hi ^ view[w + 1];
        const a = 7 * 256 + (xl & 0xff);
        const b = 6 * 256 + ((xl >>> 8) & 0xff);
        const c = 5 * 256 + ((xl >>> 16) & 0xff);
        const d = 4 * 256 + (xl >>> 24);
        const e = 3 * 256 + (xh & 0xff);
        const f = 2 * 256 + ((xh >>> 8) & 0xff);
        const g = 256 + ((xh >>> 16) & 0xff);
        const h = xh >>> 24;
        lo =
          TABLE_LO[a] ^
          TABLE_LO[b] ^
          TABLE_LO[c] ^
          TABLE_LO[d] ^
          TABLE_LO[e] ^
          TABLE_LO[f] ^
          TABLE_LO[g] ^
          TABLE_LO[h];
        hi =
          TABLE_HI[a] ^
          TABLE_HI[b] ^
          TABLE_HI[c] ^
          TABLE_HI[d] ^
          TABLE_HI[e] ^
          TABLE_HI[f] ^
          TABLE_HI[g] ^
          TABLE_HI[h];
      }
      i += words * 8;
    }
    for (const stop = end - 8; i <= stop; i += 8) {
      const xl = lo ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
      const xh = hi ^ (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24));
      const a = 7 * 256 + (xl & 0xff);
      const b = 6 * 256 + ((xl >>> 8) & 0xff);
      const c = 5 * 256 + ((xl >>> 16) & 0xff);
      const d = 4 * 256 + (xl >>> 24);
      const e = 3 * 256 + (xh & 0xff);
      const f = 2 * 256 + ((xh >>> 8) & 0xff);
      const g = 256 + ((xh >>> 16) & 0xff);
      const h = xh >>> 24;
      lo =
        TABLE_LO[a] ^
        TABLE_LO[b] ^
        TABLE_LO[c] ^
        TABLE_LO[d] ^
        TABLE_LO[e] ^
        TABLE_LO[f] ^
        TABLE_LO[g] ^
        TABLE_LO[h];
      hi =
        TABLE_HI[a] ^
        TABLE_HI[b] ^
        TABLE_HI[c] ^
        TABLE_HI[d] ^
        TABLE_HI[e] ^
        TABLE_HI[f] ^
        TABLE_HI[g] ^
        TABLE_HI[h];
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx];
      hi = (hi >>> 8) ^ TABLE_HI[idx];
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  digest(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Writes the current value little-endian (as RDB trailers and DUMP payloads store it). */
  writeLE(target: Buffer, offset: number): void {
    target.writeUInt32LE(this.lo, offset);
    target.writeUInt32LE(this.hi, offset + 4);
  }
}

/** CRC-64 (Redis/Jones) of `buf`, continuing from `seed`. */
export function crc64(buf: Uint8Array, seed?: bigint): bigint {
  return new Crc64(seed).update(buf).digest();
}
