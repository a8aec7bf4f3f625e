/**
 * LZF decompression (the format Redis uses for compressed RDB strings).
 *
 * Contract: `input` is the compressed block, `expectedLength` the uncompressed length the RDB declares.
 * Returns a new Buffer of exactly that length, or throws {@link LzfError} when the block is malformed
 * (back reference before the output start, output overrun, input overrun, or a length mismatch).
 */
export class LzfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LzfError';
  }
}

export function lzfDecompress(input: Uint8Array, expectedLength: number): Buffer {
  const out = Buffer.allocUnsafe(expectedLength);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  while (ip < inEnd) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > expectedLength) throw new LzfError('LZF literal run overruns the declared length');
      if (ip + run > inEnd) throw new LzfError('LZF literal run overruns the compressed input');
      for (let k = 0; k < run; k++) out[op++] = input[ip++];
    } else {
      let len = ctrl >> 5;
      if (ip >= inEnd) throw new LzfError('LZF back reference truncated');
      if (len === 7) {
        len += input[ip++];
        if (ip >= inEnd) throw new LzfError('LZF back reference truncated');
      }
      let ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++];
      len += 2;
      if (op + len > expectedLength) throw new LzfError('LZF back reference overruns the declared length');
      if (ref < 0) throw new LzfError('LZF back reference points before the output start');
      // Byte-wise copy on purpose: source and destination may overlap (run-length style references).
      for (let k = 0; k < len; k++) out[op++] = out[ref++];
    }
  }
  if (op !== expectedLength) {
    throw new LzfError(`LZF output is ${op} bytes, declared ${expectedLength}`);
  }
  return out;
}
