import { ByteReader, NeedMoreBytes } from './byte-reader.js';
import { Crc64 } from './crc64.js';
import {
  RdbChecksumMismatchError,
  RdbTruncatedError,
  RdbUnknownOpcodeError,
  RdbUnknownTypeError,
} from './errors.js';
import { isValueType, RDB_OPCODE_RANGE_START, RdbOpcode, RdbModuleOpcode, RdbType } from './rdb-constants.js';
import { ParsedKeyRecord } from './key-record.js';
import { readRdbHeader } from './rdb-header.js';
import { readPreGaFunction } from './value-decoders/pre-ga-function.js';
import type { RdbHandlers } from './types.js';
import { skipModulePayload } from './value-decoders/module.js';
import { readValue } from './value-reader.js';
import {
  BigValueStream,
  estimateValueBytes,
  isStreamableType,
  valueTypeOf,
} from './big-value/big-value-stream.js';

export interface RdbParserOptions {
  /**
   * Decode values into `RdbKeyRecord.value`. When false only `restorePayload` is produced: values are
   * walked to find their end but blobs are not unpacked and LZF strings are not decompressed. A function is
   * asked once, with the file's RDB version, when the header has been read.
   * @defaultValue true
   */
  decode?: boolean | ((rdbVersion: number) => boolean);
  /**
   * Verify the CRC-64 trailer (RDB >= 5) against the bytes read. A stored checksum of 0 means the
   * writer disabled checksums and is never verified.
   * @defaultValue true
   */
  verifyChecksum?: boolean;
  /**
   * Total RDB size in bytes when the caller knows it (file size, or the `$<len>` of a disk-based
   * replication transfer). Lets the parser finish the last large key as soon as the final byte arrives
   * instead of at `end()` (see the retry policy on {@link RdbParser}), and fail with RDB_TRUNCATED as soon as an
   * item's length fields claim more bytes than are left, instead of buffering the rest of the file first.
   * @defaultValue undefined (unknown)
   */
  expectedSize?: number;
  /**
   * A key whose value needs more than this many bytes of the file is handed over in parts (onBigKeyStart /
   * onBigKeyPart / onBigKeyEnd) instead of buffered whole, so memory stays bounded by about this size whatever
   * the key's size. Applies to raw strings (decided from their length prefix, before anything is buffered) and
   * to lists, sets, zsets and hashes in element-by-element or quicklist encodings (decided from their count times
   * the size of their first elements, or else once the buffered part of the value reaches the threshold); other
   * encodings and streams are always read whole. Only with all three big-key handlers.
   * @defaultValue 67108864 (64 MiB)
   */
  bigKeyThreshold?: number;
}

const FIRST_VERSION_WITH_CHECKSUM = 5;
/** Below this many buffered bytes a failed attempt is retried as soon as the known minimum arrives. */
const GEOMETRIC_RETRY_FROM = 64 * 1024;

type State = 'header' | 'body' | 'bigValue' | 'done' | 'failed';

/**
 * Streaming RDB parser: feed it the file in chunks of any size with `push`, call `end` when the input is
 * over. It calls `handlers` in file order, one top-level item (opcode, or key with its value) at a time.
 *
 * Memory: only the bytes of the item being parsed are buffered (plus the unparsed rest of the last
 * chunk). An incomplete item is retried only once the buffer reaches the minimum size the failed
 * attempt proved necessary; for items above 64 KiB also at least double the previous attempt, so a huge
 * key costs O(size) total re-parsing. Consequence: unless `expectedSize` is given, a large last key
 * may be reported only at `end()`. With big-key handlers, a streamable value is handed over in parts as soon
 * as it is known to be big: from its count and first elements (then nothing of it is joined), or once an
 * attempt proved it needs at least `bigKeyThreshold` bytes (then it was joined up to the threshold, the worst
 * case: a value whose first elements are small). The decision depends only on the value's bytes, never on how
 * the input was split or what else is buffered.
 *
 * `bytesConsumed` is the file offset just after the last completely parsed item; after EOF it is the
 * RDB's exact length (bytes pushed beyond it are ignored and not counted).
 *
 * Errors: problems with the input throw an RdbError subclass (stable `code`, file `offset`); an
 * exception thrown by a handler propagates unchanged. Either way the parser is then failed and every
 * later push/end rethrows the same error.
 */
export class RdbParser {
  bytesConsumed = 0;

  private readonly handlers: RdbHandlers;
  private decode: boolean;
  private readonly decodeFor: ((rdbVersion: number) => boolean) | null;
  private readonly verifyChecksum: boolean;
  private readonly expectedSize: number;
  /** Infinity when the big-key handlers are missing */
  private readonly bigKeyThreshold: number;
  private bigValue: BigValueStream | null = null;
  private readonly reader = new ByteReader();
  private readonly crc = new Crc64();
  private chunks: Buffer[] = [];
  private head = 0;
  private available = 0;
  private retryAt = 0;
  private paused = false;
  /** bytes the item at the cursor was proven to need by its last failed attempt (0 after a complete item) */
  private itemAtLeast = 0;
  private state: State = 'header';
  private failure: unknown;

  private rdbVersion = 0;
  private db = 0;
  private expireAt: number | null = null;
  private idle: number | null = null;
  private freq: number | null = null;

  constructor(handlers: RdbHandlers, options: RdbParserOptions = {}) {
    this.handlers = handlers;
    const decode = options.decode ?? true;
    this.decode = typeof decode === 'function' ? false : decode;
    this.decodeFor = typeof decode === 'function' ? decode : null;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.expectedSize = options.expectedSize ?? Infinity;
    const streamsBigKeys = handlers.onBigKeyStart && handlers.onBigKeyPart && handlers.onBigKeyEnd;
    this.bigKeyThreshold = streamsBigKeys ? (options.bigKeyThreshold ?? 64 * 1024 * 1024) : Infinity;
  }

  /** True once the EOF opcode (and checksum) have been read. */
  get finished(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer): void {
    if (this.state === 'failed') throw this.failure;
    if (this.state === 'done' || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
    if (!this.paused && this.available >= this.retryAt) this.drain(false);
  }

  /**
   * Stops handing items over after the current one: bytes stay buffered (pushes only add to them) until
   * `resume()`. Meant to be called from a handler whose consumer is full, so a big value buffered in raw
   * chunks is not turned into parts all at once.
   */
  pause(): void {
    this.paused = true;
  }

  /** Undoes `pause()` and parses what is buffered (handlers run inside this call). */
  resume(): void {
    if (this.state === 'failed') throw this.failure;
    if (!this.paused) return;
    this.paused = false;
    if (this.state !== 'done' && this.available > 0 && this.available >= this.retryAt) this.drain(false);
  }

  /** True between `pause()` and `resume()`. */
  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Declares the input complete; throws RDB_TRUNCATED (or the pending parse error) if the file was not. Parses
   * everything still buffered first, paused or not.
   */
  end(): void {
    if (this.state === 'failed') throw this.failure;
    if (this.state === 'done') return;
    this.paused = false;
    if (this.available > 0) this.drain(true);
    if (this.finished) return;
    const endOffset = this.bytesConsumed + this.available;
    this.fail(
      new RdbTruncatedError(
        endOffset,
        this.state === 'header'
          ? `RDB truncated: input ends after ${endOffset} bytes, inside the 9-byte header`
          : `RDB truncated: input ends after ${endOffset} bytes, before the EOF opcode`,
      ),
    );
  }

  private fail(err: unknown): never {
    this.state = 'failed';
    this.failure = err;
    this.chunks = [];
    throw err;
  }

  /**
   * Joins buffered chunks into one so the first holds at least `bytes` unparsed bytes (or all that is buffered),
   * copying no more chunks than that takes: a big value streamed from many chunks is never copied whole.
   */
  private merge(bytes: number): void {
    const parts = [this.chunks[0].subarray(this.head)];
    let length = parts[0].length;
    let count = 1;
    while (count < this.chunks.length && length < bytes) {
      parts.push(this.chunks[count]);
      length += this.chunks[count].length;
      count += 1;
    }
    this.chunks.splice(0, count, Buffer.concat(parts, length));
    this.head = 0;
  }

  /**
   * At a key that a failed attempt proved to need at least the threshold (a length field said so): starts
   * streaming its value from the first chunk as it is, without first joining the buffered chunks into one. False
   * when the first chunk does not hold the key's header, or the value cannot be streamed.
   */
  private startBigValueInPlace(): boolean {
    if (this.state !== 'body' || this.itemAtLeast < this.bigKeyThreshold) return false;
    const r = this.reader;
    const buf = this.chunks[0];
    r.reset(buf, this.head, this.bytesConsumed - this.head);
    if (!this.startBigValue(r, true)) return false;
    this.commit(buf, this.head, r.pos);
    return true;
  }

  private drain(final: boolean): void {
    const r = this.reader;
    // At end() a pause from a handler is not honoured: the input is complete and must be parsed now.
    while (this.available > 0 && this.state !== 'done' && (final || !this.paused)) {
      if (this.chunks.length > 1 && this.chunks[0].length - this.head < this.retryAt) {
        if (this.startBigValueInPlace()) continue;
        this.merge(this.retryAt);
      }
      const buf = this.chunks[0];
      const start = this.head;
      r.reset(buf, start, this.bytesConsumed - start);
      try {
        if (this.state === 'header') this.parseHeader(r);
        else if (this.state === 'bigValue') this.parseBigValueStep(r);
        else if (!this.startBigValue(r)) this.parseItem(r);
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) this.fail(err);
        const attempted = buf.length - start;
        const needed = err.needed - start;
        // The item needs at least `needed` bytes: proof (not a guess from what else is buffered) that it is big,
        // so the choice to stream it is the same however the input is split.
        if (this.state === 'body') {
          this.itemAtLeast = needed;
          r.pos = start;
          if (needed >= this.bigKeyThreshold && this.startBigValue(r, true)) {
            this.commit(buf, start, r.pos);
            continue;
          }
        }
        if (needed > this.available) {
          if (final) this.truncatedInsideItem(needed);
          // A length field claiming more than the file holds would otherwise keep every later chunk buffered. (Not
          // in the 9-byte header: a wrong magic is the better verdict there, and it needs those bytes to be seen.)
          if (this.state !== 'header' && needed > this.expectedSize - this.bytesConsumed) {
            this.beyondExpectedSize(needed);
          }
        }
        // Doubling, but a big value is caught as soon as the buffered part of it reaches the threshold.
        const amortised =
          attempted >= GEOMETRIC_RETRY_FROM
            ? Math.min(attempted * 2, Math.max(this.bigKeyThreshold, attempted + 1))
            : 0;
        const remaining = final ? this.available : this.expectedSize - this.bytesConsumed;
        this.retryAt = Math.max(needed, Math.min(amortised, remaining));
        // Enough is buffered already: the next turn joins that much into the first chunk and tries again.
        if (this.chunks.length > 1 && this.available >= this.retryAt) continue;
        return;
      }
      this.commit(buf, start, r.pos);
    }
  }

  private commit(buf: Buffer, start: number, end: number): void {
    if (this.verifyChecksum && this.state !== 'done') this.crc.update(buf, start, end);
    const n = end - start;
    this.bytesConsumed += n;
    this.available -= n;
    this.retryAt = 0;
    this.itemAtLeast = 0;
    if (end === buf.length) {
      this.chunks.shift();
      this.head = 0;
    } else {
      this.head = end;
    }
    if (this.state === 'done') this.chunks = [];
  }

  private truncatedInsideItem(needed: number): never {
    const endOffset = this.bytesConsumed + this.available;
    this.fail(
      new RdbTruncatedError(
        endOffset,
        `RDB truncated: input ends after ${endOffset} bytes, inside the item starting at offset ` +
          `${this.bytesConsumed} (at least ${needed - this.available} more bytes needed)`,
      ),
    );
  }

  private beyondExpectedSize(needed: number): never {
    this.fail(
      new RdbTruncatedError(
        this.expectedSize,
        `RDB truncated: the RDB is ${this.expectedSize} bytes long, but the item starting at offset ` +
          `${this.bytesConsumed} needs at least ${needed} bytes (the file was cut short, or a length in it is damaged)`,
      ),
    );
  }

  private parseHeader(r: ByteReader): void {
    const version = readRdbHeader(r);
    this.rdbVersion = version;
    if (this.decodeFor) this.decode = this.decodeFor(version);
    this.state = 'body';
    this.handlers.onHeader?.(version);
  }

  private parseItem(r: ByteReader): void {
    const typeAt = r.pos;
    const type = r.u8();
    if (type < RDB_OPCODE_RANGE_START) return this.parseKey(r, type, typeAt);
    const h = this.handlers;
    switch (type) {
      case RdbOpcode.EOF:
        return this.parseEof(r, typeAt);
      case RdbOpcode.SELECTDB: {
        const db = r.len();
        this.db = db;
        h.onSelectDb?.(db);
        return;
      }
      case RdbOpcode.RESIZEDB: {
        const dbSize = r.len();
        const expiresSize = r.len();
        h.onResizeDb?.(dbSize, expiresSize);
        return;
      }
      case RdbOpcode.EXPIRETIME_MS:
        this.expireAt = r.millis();
        return;
      case RdbOpcode.EXPIRETIME:
        this.expireAt = r.i32le() * 1000;
        return;
      case RdbOpcode.IDLE:
        this.idle = r.len();
        return;
      case RdbOpcode.FREQ:
        this.freq = r.u8();
        return;
      case RdbOpcode.AUX: {
        const key = r.string();
        const value = r.string();
        h.onAux?.(key, value);
        return;
      }
      case RdbOpcode.FUNCTION2: {
        const code = r.string();
        h.onFunction?.(code);
        return;
      }
      case RdbOpcode.FUNCTION_PRE_GA: {
        const code = readPreGaFunction(r);
        h.onFunction?.(code);
        return;
      }
      case RdbOpcode.MODULE_AUX: {
        const moduleId = r.lenBig();
        const whenAt = r.pos;
        if (r.len() !== RdbModuleOpcode.UINT)
          throw r.corrupt('module aux data has a bad "when" opcode', whenAt);
        r.len();
        skipModulePayload(r);
        h.onModuleAux?.(moduleId);
        return;
      }
      case RdbOpcode.SLOT_INFO: {
        const slot = r.len();
        const slotSize = r.len();
        const expiresSlotSize = r.len();
        h.onSlotInfo?.(slot, slotSize, expiresSlotSize);
        return;
      }
      default:
        throw new RdbUnknownOpcodeError(r.offset(typeAt), type);
    }
  }

  private parseEof(r: ByteReader, typeAt: number): void {
    if (this.rdbVersion >= FIRST_VERSION_WITH_CHECKSUM) {
      const checksumAt = r.pos;
      r.ensure(8);
      const stored = r.buf.readBigUInt64LE(r.pos);
      r.pos += 8;
      if (this.verifyChecksum && stored !== 0n) {
        const actual = new Crc64(this.crc.digest()).update(r.buf, typeAt, typeAt + 1).digest();
        if (actual !== stored) throw new RdbChecksumMismatchError(r.offset(checksumAt), stored, actual);
      }
      this.state = 'done';
      this.handlers.onEnd?.({ checksum: stored, bytes: r.offset() });
      return;
    }
    this.state = 'done';
    this.handlers.onEnd?.({ checksum: 0n, bytes: r.offset() });
  }

  /**
   * At a key whose value is to be streamed: reads the type, key and the value's length prefix, announces the key
   * and switches to the `bigValue` state. Otherwise returns false with the cursor where it was. A raw string
   * qualifies by its declared length, an element-by-element value by its count times the size of its first
   * elements ({@link estimateValueBytes}); with `bufferedEnough` (the buffered part of the item reached the
   * threshold) any streamable type does.
   */
  private startBigValue(r: ByteReader, bufferedEnough = false): boolean {
    if (this.bigKeyThreshold === Infinity) return false;
    const start = r.pos;
    try {
      const type = r.u8();
      if (!isStreamableType(type)) {
        r.pos = start;
        return false;
      }
      const keyAt = r.pos;
      r.skipString();
      if (type !== RdbType.STRING && !bufferedEnough) {
        const count = r.len();
        if ((estimateValueBytes(r, type, count) ?? 0) < this.bigKeyThreshold) {
          r.pos = start;
          return false;
        }
      }
      let lzfLength: number | undefined;
      if (type === RdbType.STRING) {
        const encoding = r.u8();
        // An int-encoded string is tiny; an LZF one is streamed when its uncompressed length is big.
        if (encoding >> 6 === 3 && (encoding & 0x3f) !== 3) {
          r.pos = start;
          return false;
        }
        if (encoding >> 6 === 3) {
          r.len();
          lzfLength = r.len();
        } else {
          r.pos -= 1;
        }
        if ((lzfLength ?? r.len()) < this.bigKeyThreshold) {
          r.pos = start;
          return false;
        }
      }
      r.pos = keyAt;
      const key = r.string();
      if (lzfLength !== undefined) r.u8();
      const header = r.len();
      if (lzfLength !== undefined) r.len();
      this.bigValue = new BigValueStream(type, header, lzfLength);
      this.state = 'bigValue';
      this.handlers.onBigKeyStart!({
        db: this.db,
        key,
        type: valueTypeOf(type),
        expireAt: this.expireAt,
        rdbVersion: this.rdbVersion,
      });
    } catch (error) {
      if (error instanceof NeedMoreBytes) {
        r.pos = start;
        return false;
      }
      throw error;
    }
    this.expireAt = null;
    this.idle = null;
    this.freq = null;
    if (this.bigValue.done) this.endBigValue();
    return true;
  }

  private parseBigValueStep(r: ByteReader): void {
    const part = this.bigValue!.step(r);
    this.handlers.onBigKeyPart!(part);
    if (this.bigValue!.done) this.endBigValue();
  }

  private endBigValue(): void {
    this.bigValue = null;
    this.state = 'body';
    this.handlers.onBigKeyEnd!();
  }

  private parseKey(r: ByteReader, type: number, typeAt: number): void {
    if (!isValueType(type)) throw new RdbUnknownTypeError(r.offset(typeAt), type);
    const key = r.string();
    const valueAt = r.pos;
    const value = readValue(r, type, this.decode, r.offset(typeAt));
    if (r.pos - typeAt >= this.bigKeyThreshold && isStreamableType(type)) {
      // Whole in memory already, but handed over in parts like any value of its size.
      const end = r.pos;
      r.pos = typeAt;
      if (this.startBigValue(r, true)) {
        while (this.state === 'bigValue') this.parseBigValueStep(r);
        return;
      }
      r.pos = end;
    }
    const record = new ParsedKeyRecord(
      this.db,
      key,
      this.expireAt,
      this.idle,
      this.freq,
      this.rdbVersion,
      type,
      r.buf.subarray(valueAt, r.pos),
      value,
    );
    this.expireAt = null;
    this.idle = null;
    this.freq = null;
    this.handlers.onKey(record);
  }
}
