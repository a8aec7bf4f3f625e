import type { ByteReader } from './byte-reader.js';
import { RdbCorruptError, RdbUnknownTypeError, RdbUnsupportedFeatureError } from './errors.js';
import { RdbType } from './rdb-constants.js';
import type { RdbValue } from './types.js';
import { readHashListpackEx, readHashMetadata } from './value-decoders/hash-with-ttl.js';
import { decodeIntset } from './value-decoders/intset.js';
import { decodeListpack } from './value-decoders/listpack.js';
import { skipModulePayload } from './value-decoders/module.js';
import { entryToBuffer, entryToScore, type PackedEntry } from './value-decoders/packed-entry.js';
import { readQuicklist, readQuicklist2 } from './value-decoders/quicklist.js';
import { readStream } from './value-decoders/stream.js';
import { decodeZiplist } from './value-decoders/ziplist.js';
import { decodeZipmap } from './value-decoders/zipmap.js';

type ZsetMembers = Extract<RdbValue, { type: 'zset' }>['value'];
type HashFields = Extract<RdbValue, { type: 'hash' }>['value'];

function readStrings(r: ByteReader, decode: boolean): Buffer[] {
  const count = r.len();
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (decode) out.push(r.string());
    else r.skipString();
  }
  return out;
}

function pairsToHash(e: PackedEntry[] | Buffer[], at: number): HashFields {
  if (e.length % 2 !== 0) throw new RdbCorruptError(at, `hash encoding has an odd element count ${e.length}`);
  const out: HashFields = [];
  for (let i = 0; i < e.length; i += 2) {
    out.push({ field: entryToBuffer(e[i]), value: entryToBuffer(e[i + 1]), expireAt: null });
  }
  return out;
}

function pairsToZset(e: PackedEntry[], at: number): ZsetMembers {
  if (e.length % 2 !== 0) throw new RdbCorruptError(at, `zset encoding has an odd element count ${e.length}`);
  const out: ZsetMembers = [];
  for (let i = 0; i < e.length; i += 2) {
    const score = entryToScore(e[i + 1]);
    if (score === undefined || Number.isNaN(score))
      throw new RdbCorruptError(at, 'zset score is not a number');
    out.push({ member: entryToBuffer(e[i]), score });
  }
  return out;
}

/** Reads a string-encoded blob (ziplist, listpack, intset, zipmap) and hands it to `decodeBlob`. */
function blob<T>(r: ByteReader, decode: boolean, decodeBlob: (b: Buffer, at: number) => T): T | undefined {
  if (!decode) {
    r.skipString();
    return undefined;
  }
  const at = r.offset();
  return decodeBlob(r.string(), at);
}

/**
 * Reads the value of RDB type `rdbType` at the cursor (rdbLoadObject). With `decode` false the value's
 * bytes are only walked (strings skipped, blobs and LZF left alone) and undefined is returned.
 * `typeOffset` is the file offset of the type byte, for errors about the type itself.
 */
export function readValue(
  r: ByteReader,
  rdbType: number,
  decode: boolean,
  typeOffset: number,
): RdbValue | undefined {
  const d = decode;
  switch (rdbType) {
    case RdbType.STRING:
      if (d) return { type: 'string', value: r.string() };
      r.skipString();
      return undefined;
    case RdbType.LIST: {
      const v = readStrings(r, d);
      return d ? { type: 'list', value: v } : undefined;
    }
    case RdbType.SET: {
      const v = readStrings(r, d);
      return d ? { type: 'set', value: v } : undefined;
    }
    case RdbType.ZSET:
    case RdbType.ZSET_2: {
      const count = r.len();
      const out: ZsetMembers = [];
      for (let i = 0; i < count; i++) {
        if (!d) {
          r.skipString();
          if (rdbType === RdbType.ZSET_2) r.skip(8);
          else r.asciiDouble();
          continue;
        }
        const member = r.string();
        out.push({ member, score: rdbType === RdbType.ZSET_2 ? r.f64le() : r.asciiDouble() });
      }
      return d ? { type: 'zset', value: out } : undefined;
    }
    case RdbType.HASH: {
      const count = r.len();
      const out: HashFields = [];
      for (let i = 0; i < count; i++) {
        if (!d) {
          r.skipString();
          r.skipString();
          continue;
        }
        const field = r.string();
        out.push({ field, value: r.string(), expireAt: null });
      }
      return d ? { type: 'hash', value: out } : undefined;
    }
    case RdbType.MODULE_PRE_GA:
      throw new RdbUnsupportedFeatureError(
        typeOffset,
        'pre-release module value format (type 6) is not supported',
      );
    case RdbType.MODULE_2: {
      const moduleId = r.lenBig();
      skipModulePayload(r);
      return d ? { type: 'module', moduleId, value: null } : undefined;
    }
    case RdbType.HASH_ZIPMAP: {
      const v = blob(r, d, decodeZipmap);
      return v && { type: 'hash', value: pairsToHash(v, typeOffset) };
    }
    case RdbType.LIST_ZIPLIST: {
      const v = blob(r, d, decodeZiplist);
      return v && { type: 'list', value: v.map(entryToBuffer) };
    }
    case RdbType.SET_INTSET: {
      const v = blob(r, d, decodeIntset);
      return v && { type: 'set', value: v.map(entryToBuffer) };
    }
    case RdbType.SET_LISTPACK: {
      const v = blob(r, d, decodeListpack);
      return v && { type: 'set', value: v.map(entryToBuffer) };
    }
    case RdbType.ZSET_ZIPLIST:
    case RdbType.ZSET_LISTPACK: {
      const v = blob(r, d, (b, at) =>
        pairsToZset(rdbType === RdbType.ZSET_ZIPLIST ? decodeZiplist(b, at) : decodeListpack(b, at), at),
      );
      return v && { type: 'zset', value: v };
    }
    case RdbType.HASH_ZIPLIST:
    case RdbType.HASH_LISTPACK: {
      const v = blob(r, d, (b, at) =>
        pairsToHash(rdbType === RdbType.HASH_ZIPLIST ? decodeZiplist(b, at) : decodeListpack(b, at), at),
      );
      return v && { type: 'hash', value: v };
    }
    case RdbType.LIST_QUICKLIST: {
      const v = readQuicklist(r, d);
      return v && { type: 'list', value: v };
    }
    case RdbType.LIST_QUICKLIST_2: {
      const v = readQuicklist2(r, d);
      return v && { type: 'list', value: v };
    }
    case RdbType.STREAM_LISTPACKS:
    case RdbType.STREAM_LISTPACKS_2:
    case RdbType.STREAM_LISTPACKS_3: {
      const v = readStream(r, rdbType, d);
      return v && { type: 'stream', value: v };
    }
    case RdbType.HASH_METADATA_PRE_GA:
    case RdbType.HASH_METADATA: {
      const v = readHashMetadata(r, rdbType, d);
      return v && { type: 'hash', value: v };
    }
    case RdbType.HASH_LISTPACK_EX_PRE_GA:
    case RdbType.HASH_LISTPACK_EX: {
      const v = readHashListpackEx(r, rdbType, d);
      return v && { type: 'hash', value: v };
    }
    default:
      throw new RdbUnknownTypeError(typeOffset, rdbType);
  }
}
