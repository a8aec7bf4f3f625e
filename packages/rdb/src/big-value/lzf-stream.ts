import { LzfError } from '../lzf.js';

/** LZF back references reach at most this far back into the output. */
const WINDOW = 8192;

/**
 * Incremental LZF decompression for a compressed string too big to hold whole: compressed bytes go in as they
 * arrive, output comes out in order. Keeps only the last 8 KiB of output (the reach of a back reference) and the
 * unfinished instruction at the end of the last input. Same checks as `lzfDecompress`; {@link finish} checks
 * that exactly `expectedLength` bytes came out and no instruction was left half-read.
 */
export class LzfStreamDecoder {
  private readonly history = Buffer.alloc(WINDOW);
  /** bytes of output so far (the history holds the last min(produced, WINDOW) of them, ring-indexed) */
  private produced = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly expectedLength: number) {}

  /** Decompresses `input` (after any bytes left over from the previous call); returns the new output. */
  push(input: Buffer): Buffer {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
    // A literal run expands 1:1 and a 2-3 byte reference to at most 264 bytes.
    const bound = Math.min(this.expectedLength - this.produced, data.length * 132 + 264);
    const out = Buffer.allocUnsafe(Math.max(0, bound));
    let ip = 0;
    let op = 0;
    while (ip < data.length) {
      const start = ip;
      const ctrl = data[ip++];
      if (ctrl < 32) {
        const run = ctrl + 1;
        if (ip + run > data.length) {
          ip = start;
          break;
        }
        if (this.produced + op + run > this.expectedLength)
          throw new LzfError('LZF literal run overruns the declared length');
        for (let k = 0; k < run; k++) this.emit(out, op++, data[ip++]);
        continue;
      }
      let len = ctrl >> 5;
      const need = len === 7 ? 2 : 1;
      if (ip + need > data.length) {
        ip = start;
        break;
      }
      if (len === 7) len += data[ip++];
      const distance = ((ctrl & 0x1f) << 8) + data[ip++] + 1;
      len += 2;
      const position = this.produced + op;
      if (position + len > this.expectedLength)
        throw new LzfError('LZF back reference overruns the declared length');
      if (distance > position) throw new LzfError('LZF back reference points before the output start');
      for (let k = 0; k < len; k++) {
        const from = position + k - distance;
        this.emit(out, op++, from >= this.produced ? out[from - this.produced] : this.history[from % WINDOW]);
      }
    }
    this.pending = Buffer.from(data.subarray(ip));
    this.produced += op;
    return out.subarray(0, op);
  }

  /** @throws LzfError when the input ended inside an instruction or the output length differs from the declared one */
  finish(): void {
    if (this.pending.length > 0) throw new LzfError('LZF input ends inside an instruction');
    if (this.produced !== this.expectedLength) {
      throw new LzfError(`LZF output is ${this.produced} bytes, declared ${this.expectedLength}`);
    }
  }

  private emit(out: Buffer, index: number, byte: number): void {
    out[index] = byte;
    this.history[(this.produced + index) % WINDOW] = byte;
  }
}
