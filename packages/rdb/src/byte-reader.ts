import { RdbCorruptError } from './errors.js';
import { LzfError, lzfDecompress } from './lzf.js';

/**
 * Thrown (not an Error: no stack is captured, this is flow control) when a read runs past the buffered
 * bytes. `needed` is the buffer index the read needed to reach; the parser waits for at least that much.
 */
export class NeedMoreBytes {
  constructor(readonly needed: number) {}
}

const TWO_POW_32 = 2 ** 32;
const LZF_MAX_RATIO = 100;
const SMALL_COPY = 64;

/**
 * Cursor over one contiguous buffer holding (a prefix of) the current top-level RDB item.
 * Decodes the RDB primitives: lengths, encoded strings, millisecond times, binary doubles.
 * `base` is the file offset of `buf[0]`, so errors can name absolute file offsets.
 */
export class ByteReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  base = 0;

  reset(buf: Buffer, pos: number, base: number): void {
    this.buf = buf;
    this.pos = pos;
    this.base = base;
  }

  /** Absolute file offset of buffer index `pos` (default: the cursor). */
  offset(pos = this.pos): number {
    return this.base + pos;
  }

  corrupt(detail: string, pos = this.pos): RdbCorruptError {
    return new RdbCorruptError(this.offset(pos), detail);
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) throw new NeedMoreBytes(this.pos + n);
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new NeedMoreBytes(this.pos + 1);
    return this.buf[this.pos++];
  }

  /** Zero-copy view of the next `n` bytes; copy it before keeping it beyond the current item. */
  view(n: number): Buffer {
    this.ensure(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.ensure(n);
    this.pos += n;
  }

  u32le(): number {
    this.ensure(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32le(): number {
    this.ensure(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Signed 64-bit little-endian integer as a JS number (exact below 2^53, which covers unix ms). */
  i64le(): number {
    this.ensure(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  f64le(): number {
    this.ensure(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  f32le(): number {
    this.ensure(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  /** RDB millisecond time (EXPIRETIME_MS, stream delivery/seen times): int64 little-endian. */
  millis(): number {
    return this.i64le();
  }

  /**
   * RDB length (rdbLoadLen) as a bigint: 6-bit, 14-bit, 32-bit BE or 64-bit BE.
   * Throws RDB_CORRUPT on the string-encoding prefix (0b11), which is not a length.
   */
  lenBig(): bigint {
    const start = this.pos;
    const b = this.u8();
    const kind = b >> 6;
    if (kind === 0) return BigInt(b & 0x3f);
    if (kind === 1) return BigInt(((b & 0x3f) << 8) | this.u8());
    if (b === 0x80) {
      this.ensure(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return BigInt(v);
    }
    if (b === 0x81) {
      this.ensure(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    throw this.corrupt(`invalid length prefix 0x${b.toString(16)}`, start);
  }

  /** RDB length as a safe JS integer; larger values are corrupt for anything that counts bytes or items. */
  len(): number {
    const start = this.pos;
    const b = this.u8();
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | this.u8();
    if (b === 0x80) {
      this.ensure(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (b === 0x81) {
      this.ensure(8);
      const hi = this.buf.readUInt32BE(this.pos);
      const lo = this.buf.readUInt32BE(this.pos + 4);
      this.pos += 8;
      const v = hi * TWO_POW_32 + lo;
      if (v > Number.MAX_SAFE_INTEGER) throw this.corrupt(`length ${v} is too large`, start);
      return v;
    }
    throw this.corrupt(`invalid length prefix 0x${b.toString(16)}`, start);
  }

  /**
   * An RDB string (rdbGenericLoadStringObject): raw, int-encoded (8/16/32 bit, returned as its decimal
   * text) or LZF-compressed (returned decompressed). Always a fresh Buffer the caller owns.
   */
  string(): Buffer {
    const start = this.pos;
    const b = this.u8();
    if (b >> 6 !== 3) {
      this.pos = start;
      const n = this.len();
      this.ensure(n);
      const out = Buffer.allocUnsafe(n);
      const src = this.buf;
      const from = this.pos;
      // Buffer#copy has a fixed cost that dominates for the short keys and members RDBs are full of.
      if (n <= SMALL_COPY) for (let i = 0; i < n; i++) out[i] = src[from + i];
      else out.set(src.subarray(from, from + n));
      this.pos += n;
      return out;
    }
    switch (b & 0x3f) {
      case 0:
        this.ensure(1);
        return Buffer.from(String(this.buf.readInt8(this.pos++)));
      case 1: {
        this.ensure(2);
        const v = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return Buffer.from(String(v));
      }
      case 2:
        return Buffer.from(String(this.i32le()));
      case 3: {
        const clen = this.len();
        const ulen = this.len();
        // LZF expands at most ~88x (3-byte back reference -> 264 bytes); refuse absurd declared sizes
        // before allocating for them.
        if (ulen > clen * LZF_MAX_RATIO + 64) {
          throw this.corrupt(`LZF string declares ${ulen} bytes from ${clen} compressed bytes`, start);
        }
        const data = this.view(clen);
        try {
          return lzfDecompress(data, ulen);
        } catch (err) {
          if (err instanceof LzfError) throw this.corrupt(`bad LZF string: ${err.message}`, start);
          throw err;
        }
      }
      default:
        throw this.corrupt(`unknown string encoding ${b & 0x3f}`, start);
    }
  }

  /** Skips an RDB string without materialising or decompressing it. */
  skipString(): void {
    const start = this.pos;
    const b = this.u8();
    if (b >> 6 !== 3) {
      this.pos = start;
      this.skip(this.len());
      return;
    }
    switch (b & 0x3f) {
      case 0:
        return this.skip(1);
      case 1:
        return this.skip(2);
      case 2:
        return this.skip(4);
      case 3: {
        const clen = this.len();
        this.len();
        return this.skip(clen);
      }
      default:
        throw this.corrupt(`unknown string encoding ${b & 0x3f}`, start);
    }
  }

  /** Score of an RDB_TYPE_ZSET (v1) member: length-prefixed ASCII, with 253/254/255 = nan/+inf/-inf. */
  asciiDouble(): number {
    const start = this.pos;
    const n = this.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    const text = this.view(n).toString('latin1');
    const v = parseRedisDouble(text);
    if (v === undefined) throw this.corrupt(`invalid double '${text}'`, start);
    return v;
  }
}

/** strtod-like parse of the textual doubles Redis stores (ziplist scores, v1 zset scores). */
export function parseRedisDouble(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  if (t.length === 0 || t.trim() !== t) return undefined;
  const v = Number(t);
  return Number.isNaN(v) ? undefined : v;
}
