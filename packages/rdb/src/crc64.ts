/**
 * CRC-64 as Redis computes it for RDB trailers and DUMP payloads ("Jones" polynomial 0xad93d23594c935a9,
 * reflected input and output, initial value 0, no final xor). Check value: crc64('123456789') =
 * 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two uint32 halves so the per-byte loop stays in small-integer arithmetic.
 */

const REFLECTED_POLY_HI = 0x95ac9329;
const REFLECTED_POLY_LO = 0xac4bc9b5;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);

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

/** Running CRC-64 state for hashing a file piece by piece without BigInt per byte. */
export class Crc64 {
  private hi = 0;
  private lo = 0;

  constructor(seed: bigint = 0n) {
    this.hi = Number((seed >> 32n) & 0xffffffffn);
    this.lo = Number(seed & 0xffffffffn);
  }

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = start; i < end; i++) {
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
export function crc64(buf: Uint8Array, seed: bigint = 0n): bigint {
  return new Crc64(seed).update(buf).digest();
}
