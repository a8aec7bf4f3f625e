import type { RestoreRecord } from './types.js';

/** Bytes per output chunk; small arguments are copied into chunks so a batch of commands is one socket write. */
const CHUNK_SIZE = 64 * 1024;
/** Arguments at least this long are referenced, not copied (see {@link CommandEncoder} ownership contract). */
const LARGE_ARG = 16 * 1024;

const RESTORE = Buffer.from('$7\r\nRESTORE\r\n');
const REPLACE_ABSTTL = Buffer.from('$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n');
const ABSTTL = Buffer.from('$6\r\nABSTTL\r\n');
const IDLETIME = Buffer.from('$8\r\nIDLETIME\r\n');
const FREQ = Buffer.from('$4\r\nFREQ\r\n');
const SELECT = Buffer.from('*2\r\n$6\r\nSELECT\r\n');
const CRLF = Buffer.from('\r\n');

function digitCount(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/**
 * Encodes commands as RESP arrays of bulk strings into a list of Buffers ready for one `writev`.
 *
 * Ownership: arguments shorter than 16 KiB are copied; longer ones are referenced until the Buffers returned by
 * {@link take} have been written, so callers must not modify an argument Buffer after handing it over.
 */
export class CommandEncoder {
  private chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private pos = 0;
  private out: Buffer[] = [];
  private outBytes = 0;

  /** bytes encoded and not yet taken */
  get size(): number {
    return this.outBytes + this.pos;
  }

  /** `*<n>\r\n$<len>\r\n<arg>\r\n...` */
  command(args: readonly Buffer[]): void {
    this.header(0x2a, args.length);
    for (let i = 0; i < args.length; i++) this.bulk(args[i]);
  }

  /** `SELECT <db>` */
  select(db: number): void {
    this.raw(SELECT);
    this.bulkInteger(db);
  }

  /**
   * `RESTORE key ttl payload [REPLACE] ABSTTL [IDLETIME s | FREQ f]` (REPLACE unless `record.replace` is false): ttl is the absolute expiry in unix ms
   * (0 = persistent). IDLETIME and FREQ exclude each other in Redis; IDLETIME wins when both are given.
   */
  restore(record: RestoreRecord): void {
    const hint = record.idle != null || record.freq != null;
    const replace = record.replace !== false;
    this.header(0x2a, (hint ? 8 : 6) - (replace ? 0 : 1));
    this.raw(RESTORE);
    this.bulk(record.key);
    // An expiry at or before the epoch is still an expiry (already past), never "persistent".
    this.bulkInteger(record.expireAt === null ? 0 : Math.max(1, record.expireAt));
    this.bulk(record.payload);
    this.raw(replace ? REPLACE_ABSTTL : ABSTTL);
    if (record.idle != null) {
      this.raw(IDLETIME);
      this.bulkInteger(record.idle);
    } else if (record.freq != null) {
      this.raw(FREQ);
      this.bulkInteger(record.freq);
    }
  }

  /** Hands over everything encoded so far; the encoder starts a fresh chunk (the old one may still be queued). */
  take(): Buffer[] {
    if (this.pos > 0) {
      this.out.push(this.chunk.subarray(0, this.pos));
      this.chunk =
        this.chunk.length - this.pos >= 4096 ? this.chunk.subarray(this.pos) : Buffer.allocUnsafe(CHUNK_SIZE);
      this.pos = 0;
    }
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    return out;
  }

  private reserve(bytes: number): void {
    if (this.chunk.length - this.pos >= bytes) return;
    if (this.pos > 0) {
      this.out.push(this.chunk.subarray(0, this.pos));
      this.outBytes += this.pos;
    }
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, bytes));
    this.pos = 0;
  }

  private raw(bytes: Buffer): void {
    this.reserve(bytes.length);
    bytes.copy(this.chunk, this.pos);
    this.pos += bytes.length;
  }

  /** `<type><n>\r\n` */
  private header(type: number, n: number): void {
    this.reserve(24);
    this.chunk[this.pos++] = type;
    this.digits(n);
    this.chunk[this.pos++] = 13;
    this.chunk[this.pos++] = 10;
  }

  private bulk(arg: Buffer): void {
    this.header(0x24, arg.length);
    if (arg.length >= LARGE_ARG) {
      this.out.push(this.chunk.subarray(0, this.pos), arg);
      this.outBytes += this.pos + arg.length;
      this.chunk = this.chunk.subarray(this.pos);
      this.pos = 0;
      this.raw(CRLF);
      return;
    }
    this.reserve(arg.length + 2);
    arg.copy(this.chunk, this.pos);
    this.pos += arg.length;
    this.chunk[this.pos++] = 13;
    this.chunk[this.pos++] = 10;
  }

  /** a non-negative integer as a bulk string */
  private bulkInteger(n: number): void {
    this.header(0x24, digitCount(n));
    this.reserve(24);
    this.digits(n);
    this.chunk[this.pos++] = 13;
    this.chunk[this.pos++] = 10;
  }

  /** decimal digits of a non-negative safe integer; caller reserved the space */
  private digits(n: number): void {
    const count = digitCount(n);
    let p = this.pos + count - 1;
    do {
      this.chunk[p--] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    this.pos += count;
  }
}
