import type { ByteReader } from '../byte-reader.js';
import { RdbCorruptError } from '../errors.js';
import { RdbType } from '../rdb-constants.js';
import type { RdbValue } from '../types.js';
import { decodeListpack } from './listpack.js';
import { entryToBuffer, entryToInt } from './packed-entry.js';

type HashFields = Extract<RdbValue, { type: 'hash' }>['value'];

/** Largest field expiry Redis accepts (EB_EXPIRE_TIME_MAX, 2^48 - 1 ms). */
const EXPIRE_TIME_MAX = 0xffffffffffff;

/**
 * Hash with field TTLs stored as a table (7.4+): type 24 starts with the minimum expiry (int64 ms);
 * then a count and `ttl, field, value` triples. Type 24 TTLs are relative (`ttl + minExpire - 1`,
 * 0 = none); type 22 (7.4 release candidates) stores absolute TTLs.
 */
export function readHashMetadata(r: ByteReader, rdbType: number, decode: boolean): HashFields | undefined {
  const minExpire = rdbType === RdbType.HASH_METADATA ? r.millis() : 0;
  const count = r.len();
  const out: HashFields = [];
  for (let i = 0; i < count; i++) {
    const ttlAt = r.pos;
    const ttl = r.len();
    let expireAt: number | null = null;
    if (ttl !== 0) {
      expireAt = rdbType === RdbType.HASH_METADATA ? ttl + minExpire - 1 : ttl;
      if (expireAt > EXPIRE_TIME_MAX || expireAt < 0) {
        throw r.corrupt(`hash field expiry ${expireAt} is out of range`, ttlAt);
      }
    }
    if (!decode) {
      r.skipString();
      r.skipString();
      continue;
    }
    const field = r.string();
    out.push({ field, value: r.string(), expireAt });
  }
  return decode ? out : undefined;
}

/**
 * Listpack hash with field TTLs (7.4+): type 25 starts with the minimum expiry (int64 ms, unused here);
 * then a listpack of `field, value, ttl` triples where ttl is absolute unix ms and 0 means none.
 */
export function readHashListpackEx(r: ByteReader, rdbType: number, decode: boolean): HashFields | undefined {
  if (rdbType === RdbType.HASH_LISTPACK_EX) r.millis();
  if (!decode) {
    r.skipString();
    return undefined;
  }
  const at = r.offset();
  const e = decodeListpack(r.string(), at);
  if (e.length % 3 !== 0)
    throw new RdbCorruptError(at, `hash listpack-ex has ${e.length} elements, not triples`);
  const out: HashFields = [];
  for (let i = 0; i < e.length; i += 3) {
    const ttl = entryToInt(e[i + 2]);
    if (ttl === undefined || ttl < 0 || ttl > EXPIRE_TIME_MAX) {
      throw new RdbCorruptError(at, 'hash listpack-ex field TTL is not a valid expiry');
    }
    out.push({
      field: entryToBuffer(e[i]),
      value: entryToBuffer(e[i + 1]),
      expireAt: ttl === 0 ? null : ttl,
    });
  }
  return out;
}
