import { NeedMoreBytes, type ByteReader } from '../byte-reader.js';
import { QuicklistContainer, RdbType } from '../rdb-constants.js';
import { decodeListpack } from '../value-decoders/listpack.js';
import { entryToBuffer } from '../value-decoders/packed-entry.js';
import { decodeZiplist } from '../value-decoders/ziplist.js';
import type { RdbValueType } from '../types.js';
import { LzfError } from '../lzf.js';
import { LzfStreamDecoder } from './lzf-stream.js';

/** Consecutive pieces of one big value, in file order; strings come as byte slices to append. */
export type BigValuePart =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; value: Buffer[] }
  | { type: 'set'; value: Buffer[] }
  | { type: 'zset'; value: Array<{ member: Buffer; score: number }> }
  | { type: 'hash'; value: Array<{ field: Buffer; value: Buffer; expireAt: null }> };

/** A key whose value is handed over in parts instead of as one record (see RdbParserOptions.bigKeyThreshold). */
export interface BigKeyInfo {
  db: number;
  key: Buffer;
  type: RdbValueType;
  /** absolute expiry in unix ms, null when persistent */
  expireAt: number | null;
  rdbVersion: number;
}

/** Elements per part, and the bytes a part should reach before it is handed over. */
const PART_ELEMENTS = 500;
const PART_BYTES = 1024 * 1024;
/** A string slice is handed over once this many bytes (or the rest of the string) are buffered. */
const STRING_SLICE = 256 * 1024;
/** Compressed bytes per step of an LZF string (each may expand ~90x). */
const LZF_SLICE = 16 * 1024;

/** RDB types whose values can be read piece by piece (raw strings; lists, sets, zsets, hashes in their
 * element-by-element or quicklist encodings). Single-blob encodings (listpack, intset, ziplist) and streams
 * are not: they are read whole. */
export function isStreamableType(rdbType: number): boolean {
  switch (rdbType) {
    case RdbType.STRING:
    case RdbType.LIST:
    case RdbType.SET:
    case RdbType.ZSET:
    case RdbType.ZSET_2:
    case RdbType.HASH:
    case RdbType.LIST_QUICKLIST:
    case RdbType.LIST_QUICKLIST_2:
      return true;
    default:
      return false;
  }
}

export function valueTypeOf(rdbType: number): Exclude<BigValuePart['type'], never> {
  switch (rdbType) {
    case RdbType.STRING:
      return 'string';
    case RdbType.SET:
      return 'set';
    case RdbType.ZSET:
    case RdbType.ZSET_2:
      return 'zset';
    case RdbType.HASH:
      return 'hash';
    default:
      return 'list';
  }
}

/** Elements (or quicklist nodes) read to estimate a value's size from its declared count. */
const ESTIMATE_SAMPLE = 16;

/**
 * The RDB bytes an element-by-element value (list, set, zset, hash, quicklist) probably takes: its declared
 * element or node count times the average size of its first 16 (or all, when fewer), read at the cursor (the
 * cursor moves). Null until all of those are buffered, so the guess — and whether the value is streamed — is
 * the same however the input was split. Lets a value that is evidently big be streamed from its first bytes
 * instead of being buffered up to the threshold first; a wrong guess only changes how the value is written.
 */
export function estimateValueBytes(r: ByteReader, rdbType: number, count: number): number | null {
  const start = r.pos;
  const sample = Math.min(count, ESTIMATE_SAMPLE);
  try {
    for (let units = 0; units < sample; units++) skipUnit(r, rdbType);
  } catch (error) {
    if (error instanceof NeedMoreBytes) return null;
    throw error;
  }
  return sample === 0 ? 0 : ((r.pos - start) / sample) * count;
}

function skipUnit(r: ByteReader, rdbType: number): void {
  switch (rdbType) {
    case RdbType.ZSET:
      r.skipString();
      r.asciiDouble();
      return;
    case RdbType.ZSET_2:
      r.skipString();
      r.skip(8);
      return;
    case RdbType.HASH:
      r.skipString();
      r.skipString();
      return;
    case RdbType.LIST_QUICKLIST_2:
      r.len();
      r.skipString();
      return;
    default:
      r.skipString();
  }
}

/**
 * Reads one big value in steps. Contract of {@link step}: it reads at the cursor only whole units (elements,
 * quicklist nodes, or a string slice), returns them as one part, and leaves the cursor after the last unit it
 * returned; it throws NeedMoreBytes only when not even one unit is buffered. Its own counters change only
 * after every read of the step succeeded, so a step retried after NeedMoreBytes starts where the last left off.
 */
export class BigValueStream {
  /** elements, nodes, or string bytes still to read */
  private remaining: number;

  /**
   * @param rdbType the value's RDB type ({@link isStreamableType})
   * @param header what the value's length prefix said: string bytes, element count or quicklist node count
   */
  private readonly lzf: LzfStreamDecoder | null;

  /**
   * @param lzfLength for an LZF-compressed string: its uncompressed length (`header` is then the compressed one)
   */
  constructor(
    private readonly rdbType: number,
    header: number,
    lzfLength?: number,
  ) {
    this.remaining = header;
    this.lzf = lzfLength === undefined ? null : new LzfStreamDecoder(lzfLength);
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  step(r: ByteReader): BigValuePart {
    if (this.rdbType === RdbType.STRING) return this.stringSlice(r);
    const type = valueTypeOf(this.rdbType);
    const items: unknown[] = [];
    let units = 0;
    let bytes = 0;
    while (units < this.remaining && items.length < PART_ELEMENTS && bytes < PART_BYTES) {
      const unitStart = r.pos;
      try {
        bytes += this.readUnit(r, items);
      } catch (error) {
        if (error instanceof NeedMoreBytes && units > 0) {
          r.pos = unitStart;
          break;
        }
        throw error;
      }
      units += 1;
    }
    this.remaining -= units;
    return { type, value: items } as BigValuePart;
  }

  /** Reads one element (or quicklist node) into `items`; returns the bytes it took. */
  private readUnit(r: ByteReader, items: unknown[]): number {
    const start = r.pos;
    switch (this.rdbType) {
      case RdbType.LIST:
      case RdbType.SET:
        items.push(r.string());
        break;
      case RdbType.ZSET:
      case RdbType.ZSET_2: {
        const member = r.string();
        const score = this.rdbType === RdbType.ZSET_2 ? r.f64le() : r.asciiDouble();
        if (Number.isNaN(score)) throw r.corrupt('zset score is not a number', start);
        items.push({ member, score });
        break;
      }
      case RdbType.HASH: {
        const field = r.string();
        items.push({ field, value: r.string(), expireAt: null });
        break;
      }
      case RdbType.LIST_QUICKLIST: {
        const at = r.offset();
        for (const entry of decodeZiplist(r.string(), at)) items.push(entryToBuffer(entry));
        break;
      }
      case RdbType.LIST_QUICKLIST_2: {
        const container = r.len();
        if (container !== QuicklistContainer.PLAIN && container !== QuicklistContainer.PACKED) {
          throw r.corrupt(`quicklist node has unknown container type ${container}`, start);
        }
        const at = r.offset();
        const blob = r.string();
        if (container === QuicklistContainer.PLAIN) items.push(blob);
        else for (const entry of decodeListpack(blob, at)) items.push(entryToBuffer(entry));
        break;
      }
    }
    return r.pos - start;
  }

  private stringSlice(r: ByteReader): BigValuePart {
    if (this.lzf) return this.lzfSlice(r, this.lzf);
    const buffered = r.buf.length - r.pos;
    const want = Math.min(this.remaining, STRING_SLICE);
    if (buffered < want) throw new NeedMoreBytes(r.pos + want);
    const n = Math.min(this.remaining, buffered);
    // A copy: the parser's buffer may be one large merged chunk that must not stay alive for a small slice.
    const slice = Buffer.from(r.view(n));
    this.remaining -= n;
    return { type: 'string', value: slice };
  }

  private lzfSlice(r: ByteReader, lzf: LzfStreamDecoder): BigValuePart {
    const want = Math.min(this.remaining, LZF_SLICE);
    if (r.buf.length - r.pos < want) throw new NeedMoreBytes(r.pos + want);
    const at = r.pos;
    try {
      const value = lzf.push(r.view(want));
      if (want === this.remaining) lzf.finish();
      this.remaining -= want;
      return { type: 'string', value };
    } catch (error) {
      if (error instanceof LzfError) throw r.corrupt(`bad LZF string: ${error.message}`, at);
      throw error;
    }
  }
}
