import { ReplProtocolError } from './errors.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;

/** Handshake replies are one short line; anything longer means we are not talking to a Redis master. */
const MAX_REPLY_LINE = 64 * 1024;

/**
 * Splits the master's one-line handshake replies (`+OK`, `-ERR ...`, `+FULLRESYNC ...`) out of the byte
 * stream. Bare `\n` keep-alives that a master sends while a replica waits (before `+FULLRESYNC`) are skipped.
 * Bytes after a line stay buffered: they may already belong to the RDB transfer or the command stream, so the
 * owner takes them with `takeRest()` once it knows what comes next.
 */
export class ReplyLineReader {
  private buf: Buffer = EMPTY;
  /** where the LF search resumes */
  private scanFrom = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next complete reply line without its CRLF, or null until one has arrived. */
  readLine(): string | null {
    let start = 0;
    while (start < this.buf.length && this.buf[start] === LF) start++;
    if (start > 0) {
      this.buf = this.buf.subarray(start);
      this.scanFrom = 0;
    }
    const lf = this.buf.indexOf(LF, this.scanFrom);
    if (lf < 0) {
      this.scanFrom = this.buf.length;
      if (this.buf.length > MAX_REPLY_LINE) {
        throw new ReplProtocolError(`a handshake reply longer than ${MAX_REPLY_LINE} bytes`);
      }
      return null;
    }
    if (lf === 0 || this.buf[lf - 1] !== CR)
      throw new ReplProtocolError('a handshake reply not ended by CRLF');
    const line = this.buf.toString('latin1', 0, lf - 1);
    this.buf = this.buf.subarray(lf + 1);
    this.scanFrom = 0;
    return line;
  }

  /** Bytes received after the last line read; the reader is empty afterwards. */
  takeRest(): Buffer {
    const rest = this.buf;
    this.buf = EMPTY;
    this.scanFrom = 0;
    return rest;
  }
}
