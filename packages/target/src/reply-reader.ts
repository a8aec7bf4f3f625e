/**
 * Streaming reader of a target's replies. It does not build values: a writer only needs to know, per reply and
 * in order, whether it was (or, for an aggregate such as an EXEC result, contained) an error.
 *
 * Contract: `feed` takes socket chunks in order (the reader keeps views of them until consumed); `onReply` is
 * called once per complete top-level reply with `null` or the text of the first error inside it (without `-`).
 * A partial reply is re-scanned only once enough bytes for its known lengths have arrived, so a large bulk reply
 * split across many chunks costs one concatenation, not one per chunk.
 */
export class ReplyReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** bytes that must be buffered before a re-scan can make progress */
  private need = 0;
  /** absolute position (in the buffer being scanned) the partial reply needs */
  private hint = 0;
  private firstError: string | null = null;

  constructor(private readonly onReply: (error: string | null) => void) {}

  /** bytes received but not yet part of a complete reply */
  get pendingBytes(): number {
    return this.buffered;
  }

  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.need = 0;
    let pos = 0;
    while (pos < buf.length) {
      this.firstError = null;
      const end = this.scan(buf, pos);
      if (end < 0) {
        const rest = buf.subarray(pos);
        this.chunks.push(rest);
        this.buffered = rest.length;
        this.need = this.hint - pos;
        return;
      }
      pos = end;
      this.onReply(this.firstError);
    }
  }

  /** @returns the position after the value starting at `pos`, or -1 if it is incomplete (sets `hint`) */
  private scan(buf: Buffer, pos: number): number {
    const len = buf.length;
    const lineEnd = buf.indexOf(13, pos + 1);
    if (lineEnd === -1 || lineEnd + 1 >= len) {
      this.hint = len + 1;
      return -1;
    }
    const type = buf[pos];
    switch (type) {
      case 0x2b: // + simple string
      case 0x3a: // : integer
      case 0x5f: // _ null (RESP3)
      case 0x2c: // , double
      case 0x23: // # boolean
      case 0x28: // ( big number
        return lineEnd + 2;
      case 0x2d: // - error
        if (this.firstError === null) this.firstError = buf.toString('latin1', pos + 1, lineEnd);
        return lineEnd + 2;
      case 0x24: // $ bulk string
      case 0x3d: // = verbatim string
      case 0x21: {
        // ! blob error
        const n = parseLength(buf, pos + 1, lineEnd);
        if (n < 0) return lineEnd + 2;
        const end = lineEnd + 2 + n + 2;
        if (end > len) {
          this.hint = end;
          return -1;
        }
        if (type === 0x21 && this.firstError === null) {
          this.firstError = buf.toString('latin1', lineEnd + 2, lineEnd + 2 + n);
        }
        return end;
      }
      case 0x2a: // * array
      case 0x7e: // ~ set
      case 0x3e: // > push
      case 0x25: // % map
      case 0x7c: {
        // | attribute
        let n = parseLength(buf, pos + 1, lineEnd);
        if (type === 0x25 || type === 0x7c) n *= 2;
        let p = lineEnd + 2;
        for (let i = 0; i < n; i++) {
          if (p >= len) {
            this.hint = len + 1;
            return -1;
          }
          p = this.scan(buf, p);
          if (p < 0) return -1;
        }
        return p;
      }
      default:
        throw new Error(`target sent an invalid reply (type byte 0x${type.toString(16)})`);
    }
  }
}

function parseLength(buf: Buffer, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) throw new Error('target sent an invalid length in a reply');
    n = n * 10 + d;
  }
  return negative ? -n : n;
}
