import type { ByteReader } from './byte-reader.js';
import { RDB_MAX_KNOWN_VERSION } from './rdb-constants.js';
import { RdbBadMagicError, RdbUnsupportedVersionError } from './errors.js';

const MAGIC = Buffer.from('REDIS');
/** "REDIS" and four version digits. */
export const RDB_HEADER_SIZE = 9;

/**
 * Reads the 9-byte header at the cursor and returns the RDB version. A wrong magic is reported from the bytes
 * at hand (so a short non-RDB input gets that verdict rather than a truncation); throws NeedMoreBytes only when
 * the bytes present are a prefix of "REDIS".
 */
export function readRdbHeader(r: ByteReader): number {
  const have = Math.min(RDB_HEADER_SIZE, r.buf.length - r.pos);
  for (let i = 0; i < Math.min(have, MAGIC.length); i++) {
    if (r.buf[r.pos + i] !== MAGIC[i]) {
      const shown = JSON.stringify(r.buf.subarray(r.pos, r.pos + have).toString('latin1'));
      const hint = shown.startsWith('"VALKEY') ? ' (Valkey 9+ RDB format is not supported)' : '';
      throw new RdbBadMagicError(0, `not an RDB file: header starts with ${shown}, expected "REDIS"${hint}`);
    }
  }
  const header = r.view(RDB_HEADER_SIZE);
  const digits = header.subarray(5).toString('latin1');
  if (!/^\d{4}$/.test(digits)) {
    throw new RdbBadMagicError(5, `not an RDB file: version field ${JSON.stringify(digits)} is not 4 digits`);
  }
  const version = Number(digits);
  if (version < 1 || version > RDB_MAX_KNOWN_VERSION) {
    throw new RdbUnsupportedVersionError(5, version, RDB_MAX_KNOWN_VERSION);
  }
  return version;
}
