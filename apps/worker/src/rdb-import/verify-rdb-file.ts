import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { RdbParser } from '@shardbridge/rdb';

const FIRST_VERSION_WITH_CHECKSUM = 5;
const CHECKSUM_BYTES = 8;
const HEADER_BYTES = 9;

/** What the check pass proved about an RDB file before a byte of it was written anywhere. */
export interface RdbFileCheck {
  rdbVersion: number;
  /**
   * `verified`: the file's CRC-64 trailer matches every byte before it. `absent`: RDB < 5 has no checksum.
   * `disabled`: the trailer is zero (the file was saved with `rdbchecksum no`). Without a verified checksum
   * the structure was checked and every value decoded, but damage inside a value's bytes can go unnoticed.
   */
  checksum: 'verified' | 'absent' | 'disabled';
  /** every value was decoded (done when no checksum covers the file, to find damage by structure alone) */
  valuesDecoded: boolean;
  /** keys in the file, expired ones included */
  keys: number;
  /** the first key outside db 0 (a cluster target only has db 0); null when every key is in db 0 */
  firstKeyOutsideDb0: { db: number; key: Buffer } | null;
  /** the RDB's length: the file's size */
  bytes: number;
  elapsedMs: number;
}

export interface VerifyRdbFileOptions {
  /** the file's size, from stat */
  bytesTotal: number;
  /** @defaultValue 1048576 (1 MiB) */
  readChunkBytes?: number;
  /** values needing more bytes are walked in parts, as the import does; keeps memory bounded. @defaultValue 64 MiB */
  bigKeyThreshold?: number;
  /** called after each chunk with the bytes checked so far */
  onBytes?: (bytesDone: number) => void;
  /** aborting stops the pass; it then rejects with the signal's reason */
  signal?: AbortSignal;
}

/**
 * Reads the whole RDB file through the parser without writing anything: the CRC-64 at its end, and the structure
 * of every item (lengths, encodings, truncation). A file without a checksum to verify (RDB < 5, or a zero
 * trailer) has every value decoded too, the only way left to find damage inside one. Costs one extra read of
 * the file (see README "RDB import": rate measured there).
 * @throws the parser's RdbError (code, byte offset), the fs error when the file cannot be read, or the abort reason
 */
export async function verifyRdbFile(path: string, options: VerifyRdbFileOptions): Promise<RdbFileCheck> {
  const started = Date.now();
  const trailerIsZero = await readTrailerIsZero(path, options.bytesTotal);
  let rdbVersion = 0;
  let keys = 0;
  let firstKeyOutsideDb0: RdbFileCheck['firstKeyOutsideDb0'] = null;
  const onKeyIn = (db: number, key: Buffer) => {
    keys++;
    if (db !== 0 && !firstKeyOutsideDb0) firstKeyOutsideDb0 = { db, key };
  };
  let valuesDecoded = false;
  const parser = new RdbParser(
    {
      onHeader: (version) => (rdbVersion = version),
      onKey: (record) => onKeyIn(record.db, record.key),
      onBigKeyStart: (info) => onKeyIn(info.db, info.key),
      onBigKeyPart: () => {},
      onBigKeyEnd: () => {},
    },
    {
      decode: (version) => (valuesDecoded = version < FIRST_VERSION_WITH_CHECKSUM || trailerIsZero),
      expectedSize: options.bytesTotal,
      bigKeyThreshold: options.bigKeyThreshold,
    },
  );
  const stream = createReadStream(path, { highWaterMark: options.readChunkBytes ?? 1 << 20 });
  try {
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      parser.push(chunk as Buffer);
      options.onBytes?.(parser.bytesConsumed);
    }
    parser.end();
  } finally {
    stream.destroy();
  }
  const checksum =
    rdbVersion < FIRST_VERSION_WITH_CHECKSUM ? 'absent' : trailerIsZero ? 'disabled' : 'verified';
  return {
    rdbVersion,
    checksum,
    valuesDecoded,
    keys,
    firstKeyOutsideDb0,
    bytes: parser.bytesConsumed,
    elapsedMs: Date.now() - started,
  };
}

/** The last 8 bytes are zero: a file saved with `rdbchecksum no` (or one that ends early: the pass says which). */
async function readTrailerIsZero(path: string, size: number): Promise<boolean> {
  if (size < HEADER_BYTES + 1 + CHECKSUM_BYTES) return false;
  const file = await open(path, 'r');
  try {
    const trailer = Buffer.alloc(CHECKSUM_BYTES);
    await file.read(trailer, 0, CHECKSUM_BYTES, size - CHECKSUM_BYTES);
    return trailer.every((byte) => byte === 0);
  } finally {
    await file.close();
  }
}
