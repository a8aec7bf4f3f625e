import { RespProtocolError } from './errors.js';
import { parseBignum, parseBoolean, parseDouble, parseInteger, parseLength } from './line-values.js';
import type { RespFrame, RespValue } from './types.js';

export interface RespDecoderOptions {
  /** largest accepted bulk string / blob error / verbatim string, in bytes. @defaultValue 536870912 (512 MiB) */
  maxBulkLength?: number;
  /** largest accepted element count of an array, set or push (pairs for a map). @defaultValue 2147483647 */
  maxArrayLength?: number;
  /** deepest accepted nesting of aggregates. @defaultValue 64 */
  maxDepth?: number;
  /** longest accepted type line (simple string, error, number, length header), in bytes. @defaultValue 1048576 */
  maxLineLength?: number;
}

const EMPTY = Buffer.alloc(0);
const CR = 0x0d;
const LF = 0x0a;

type AggregateKind = 'array' | 'set' | 'push' | 'map' | 'attribute';

/** An aggregate whose header has been read and whose elements are still arriving. */
interface OpenAggregate {
  kind: AggregateKind;
  /** elements still expected (a map or attribute expects two per pair) */
  remaining: number;
  items: RespValue[];
}

/** A length-prefixed payload (`$`, `!`, `=`) larger than what was buffered when its header was read. */
interface PendingBlob {
  type: number;
  /** payload length, without the trailing CRLF */
  length: number;
  /** stream offset of the payload's first byte */
  start: number;
  chunks: Buffer[];
  have: number;
}

/**
 * Streaming RESP2/RESP3 decoder. Push socket chunks in order; complete top-level frames are passed to `onFrame`
 * synchronously, each with the exact number of stream bytes it occupied.
 *
 * Cost contract: every byte is examined a bounded number of times. A partial type line is kept and only the new
 * bytes are searched for its CR; a bulk payload whose length is known is collected as a list of chunks and joined
 * once when complete. Aggregates under construction live on an explicit stack, so a large array split across
 * many chunks is never re-parsed.
 *
 * Buffer ownership: bulk values may be views into the pushed chunks. The decoder never writes to pushed chunks,
 * so the caller must not reuse them either while values are held.
 *
 * RESP3 attributes (`|`) at top level are emitted as their own frame (kind `attribute`) so byte accounting stays
 * exact; attributes nested inside an aggregate are skipped (they are not elements). Streamed RESP3 strings and
 * aggregates (`$?`, `*?`) are rejected. Inline commands are rejected: the first byte of a frame must be a type byte.
 */
export class RespDecoder {
  private readonly maxBulkLength: number;
  private readonly maxArrayLength: number;
  private readonly maxDepth: number;
  private readonly maxLineLength: number;

  /** unparsed input; buf[i] is stream byte `base + i` */
  private buf: Buffer = EMPTY;
  private pos = 0;
  private base = 0;
  /** index in `buf` where the CR search of the current partial line resumes */
  private scanFrom = 0;
  private stack: OpenAggregate[] = [];
  private blob: PendingBlob | null = null;
  /** owned scratch buffer holding a partial type line at its start (see appendToPartialLine) */
  private lineStore: Buffer | null = null;
  private totalPushed = 0;
  private lastFrameEnd = 0;
  private failure: RespProtocolError | null = null;
  /** bumped by reset() so a parse loop interrupted by a callback that reset the decoder stops */
  private generation = 0;

  constructor(
    private readonly onFrame: (frame: RespFrame) => void,
    options: RespDecoderOptions = {},
  ) {
    this.maxBulkLength = options.maxBulkLength ?? 512 * 1024 * 1024;
    this.maxArrayLength = options.maxArrayLength ?? 2_147_483_647;
    this.maxDepth = options.maxDepth ?? 64;
    this.maxLineLength = options.maxLineLength ?? 1024 * 1024;
  }

  /** Bytes pushed that belong to no emitted frame yet (the partial frame in progress). */
  get bufferedBytes(): number {
    return this.totalPushed - this.lastFrameEnd;
  }

  /** Stream offset just after the last emitted frame. */
  get offset(): number {
    return this.lastFrameEnd;
  }

  /** Forget all partial state and errors; stream offsets restart at 0. */
  reset(): void {
    this.generation++;
    this.buf = EMPTY;
    this.pos = 0;
    this.base = 0;
    this.scanFrom = 0;
    this.stack = [];
    this.blob = null;
    this.lineStore = null;
    this.totalPushed = 0;
    this.lastFrameEnd = 0;
    this.failure = null;
  }

  /** Feed the next chunk of the stream. Throws RespProtocolError on invalid input (and on every call after). */
  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    this.totalPushed += chunk.length;
    try {
      if (this.blob) {
        this.feedBlob(this.blob, chunk);
      } else if (this.pos < this.buf.length) {
        this.buf = this.appendToPartialLine(this.buf.subarray(this.pos), chunk);
        this.base += this.pos;
        this.scanFrom -= this.pos;
        this.pos = 0;
        this.parse();
      } else {
        this.base += this.buf.length;
        this.buf = chunk;
        this.pos = 0;
        this.scanFrom = 0;
        this.parse();
      }
    } catch (err) {
      if (err instanceof RespProtocolError) this.failure = err;
      throw err;
    }
  }

  /**
   * `rest` (a partial type line: payloads go to `blob`) followed by `chunk`, in the line store. A line arriving a
   * few bytes at a time grows the store geometrically instead of being copied whole on every push, which made a
   * line of maxLineLength sent byte by byte cost O(n²) (minutes for 1 MiB). The store is written only while nothing
   * in it has been parsed (`rest` starts at its first byte), so values handed out as views of it stay intact.
   */
  private appendToPartialLine(rest: Buffer, chunk: Buffer): Buffer {
    const total = rest.length + chunk.length;
    let store = this.lineStore;
    const growing = store !== null && rest.buffer === store.buffer && rest.byteOffset === store.byteOffset;
    if (!growing || store === null || store.length < total) {
      const grown = Buffer.allocUnsafe(Math.max(total, growing && store ? store.length * 2 : 0, 256));
      rest.copy(grown, 0);
      store = grown;
      this.lineStore = grown;
    }
    chunk.copy(store, rest.length);
    return store.subarray(0, total);
  }

  private feedBlob(blob: PendingBlob, chunk: Buffer): void {
    const need = blob.length + 2 - blob.have;
    if (chunk.length < need) {
      blob.chunks.push(chunk);
      blob.have += chunk.length;
      this.base += chunk.length;
      return;
    }
    blob.chunks.push(chunk.subarray(0, need));
    const whole = Buffer.concat(blob.chunks, blob.length + 2);
    this.blob = null;
    this.buf = chunk;
    this.pos = need;
    this.scanFrom = 0;
    this.checkCrlf(whole, blob.length, blob.start + blob.length);
    const generation = this.generation;
    this.emit(this.blobValue(blob.type, whole.subarray(0, blob.length), blob.start));
    if (generation === this.generation) this.parse();
  }

  private parse(): void {
    const generation = this.generation;
    while (this.pos < this.buf.length && generation === this.generation) {
      const buf = this.buf;
      const start = this.pos;
      const type = buf[start];
      switch (type) {
        case 0x2b /* + */:
        case 0x2d /* - */:
        case 0x3a /* : */:
        case 0x5f /* _ */:
        case 0x2c /* , */:
        case 0x23 /* # */:
        case 0x28 /* ( */: {
          const cr = this.findLineEnd();
          if (cr < 0) return;
          const value = this.lineValue(type, buf, start + 1, cr);
          this.pos = cr + 2;
          this.emit(value);
          break;
        }
        case 0x24 /* $ */:
        case 0x21 /* ! */:
        case 0x3d /* = */: {
          const cr = this.findLineEnd();
          if (cr < 0) return;
          const length = parseLength(buf, start + 1, cr, this.base, type === 0x24);
          this.pos = cr + 2;
          if (length === -1) {
            this.emit({ kind: 'bulk', value: null });
            break;
          }
          if (length > this.maxBulkLength) {
            throw new RespProtocolError(`bulk length ${length} exceeds maxBulkLength`, this.base + start + 1);
          }
          const bodyStart = this.pos;
          if (buf.length - bodyStart >= length + 2) {
            this.checkCrlf(buf, bodyStart + length, this.base + bodyStart + length);
            this.pos = bodyStart + length + 2;
            this.emit(
              this.blobValue(type, buf.subarray(bodyStart, bodyStart + length), this.base + bodyStart),
            );
            break;
          }
          const rest = buf.subarray(bodyStart);
          this.blob = {
            type,
            length,
            start: this.base + bodyStart,
            chunks: rest.length > 0 ? [rest] : [],
            have: rest.length,
          };
          this.base += buf.length;
          this.buf = EMPTY;
          this.pos = 0;
          this.scanFrom = 0;
          return;
        }
        case 0x2a /* * */:
        case 0x7e /* ~ */:
        case 0x3e /* > */:
        case 0x25 /* % */:
        case 0x7c /* | */: {
          const cr = this.findLineEnd();
          if (cr < 0) return;
          const count = parseLength(buf, start + 1, cr, this.base, type === 0x2a);
          this.pos = cr + 2;
          const kind = aggregateKind(type);
          if (count === -1) {
            this.emit({ kind: 'array', value: null });
            break;
          }
          if (count > this.maxArrayLength) {
            throw new RespProtocolError(
              `aggregate length ${count} exceeds maxArrayLength`,
              this.base + start + 1,
            );
          }
          if (count === 0) {
            this.emit(closeAggregate(kind, []));
            break;
          }
          if (this.stack.length >= this.maxDepth) {
            throw new RespProtocolError(`nesting deeper than maxDepth ${this.maxDepth}`, this.base + start);
          }
          const pairs = kind === 'map' || kind === 'attribute';
          this.stack.push({ kind, remaining: pairs ? count * 2 : count, items: [] });
          break;
        }
        default:
          throw new RespProtocolError(
            `unexpected byte 0x${type.toString(16).padStart(2, '0')}`,
            this.base + start,
          );
      }
    }
  }

  /**
   * Index of the CR ending the type line that starts at `pos`, or -1 when the line is not complete yet (the
   * search resumes where it stopped on the next push).
   */
  private findLineEnd(): number {
    const buf = this.buf;
    const cr = buf.indexOf(CR, Math.max(this.pos + 1, this.scanFrom));
    if (cr < 0 || cr + 1 >= buf.length) {
      this.scanFrom = cr < 0 ? buf.length : cr;
      if (buf.length - this.pos > this.maxLineLength) {
        throw new RespProtocolError('type line longer than maxLineLength', this.base + this.pos);
      }
      return -1;
    }
    // Also a complete line: a line's fate must not depend on where the chunks happened to split it.
    if (cr + 1 - this.pos > this.maxLineLength) {
      throw new RespProtocolError('type line longer than maxLineLength', this.base + this.pos);
    }
    if (buf[cr + 1] !== LF) throw new RespProtocolError('CR not followed by LF', this.base + cr + 1);
    this.scanFrom = 0;
    return cr;
  }

  /** `at` indexes the CR expected after a payload; `streamOffset` is that byte's position in the stream. */
  private checkCrlf(buf: Buffer, at: number, streamOffset: number): void {
    if (buf[at] !== CR) throw new RespProtocolError('payload not followed by CRLF', streamOffset);
    if (buf[at + 1] !== LF) throw new RespProtocolError('payload not followed by CRLF', streamOffset + 1);
  }

  private lineValue(type: number, buf: Buffer, start: number, end: number): RespValue {
    switch (type) {
      case 0x2b:
        return { kind: 'simple', value: buf.toString('latin1', start, end) };
      case 0x2d:
        return { kind: 'error', value: buf.toString('latin1', start, end) };
      case 0x3a:
        return { kind: 'integer', value: parseInteger(buf, start, end, this.base) };
      case 0x5f:
        if (end !== start) throw new RespProtocolError('null with a payload', this.base + start);
        return { kind: 'null' };
      case 0x2c:
        return { kind: 'double', value: parseDouble(buf, start, end, this.base) };
      case 0x23:
        return { kind: 'boolean', value: parseBoolean(buf, start, end, this.base) };
      default:
        return { kind: 'bignum', value: parseBignum(buf, start, end, this.base) };
    }
  }

  /** `payloadStart` is the stream offset of payload[0], for error offsets. */
  private blobValue(type: number, payload: Buffer, payloadStart: number): RespValue {
    if (type === 0x24) return { kind: 'bulk', value: payload };
    if (type === 0x21) return { kind: 'error', value: payload.toString('latin1') };
    if (payload.length < 4 || payload[3] !== 0x3a) {
      throw new RespProtocolError('verbatim string without a 3-byte format and colon', payloadStart);
    }
    return { kind: 'verbatim', format: payload.toString('latin1', 0, 3), value: payload.subarray(4) };
  }

  /** Attach a completed value to the open aggregate, closing aggregates as they fill; top level = a frame. */
  private emit(value: RespValue): void {
    let v = value;
    while (this.stack.length > 0) {
      if (v.kind === 'attribute') return;
      const top = this.stack[this.stack.length - 1];
      top.items.push(v);
      if (--top.remaining > 0) return;
      this.stack.pop();
      v = closeAggregate(top.kind, top.items);
    }
    const end = this.base + this.pos;
    const frame: RespFrame = { value: v, byteLength: end - this.lastFrameEnd };
    this.lastFrameEnd = end;
    this.onFrame(frame);
  }
}

function aggregateKind(type: number): AggregateKind {
  switch (type) {
    case 0x2a:
      return 'array';
    case 0x7e:
      return 'set';
    case 0x3e:
      return 'push';
    case 0x25:
      return 'map';
    default:
      return 'attribute';
  }
}

function closeAggregate(kind: AggregateKind, items: RespValue[]): RespValue {
  if (kind === 'map' || kind === 'attribute') {
    const pairs: Array<[RespValue, RespValue]> = [];
    for (let i = 0; i < items.length; i += 2) pairs.push([items[i], items[i + 1]]);
    return { kind, value: pairs };
  }
  return { kind, value: items };
}
