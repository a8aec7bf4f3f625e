import type { ByteReader } from '../byte-reader.js';
import { QuicklistContainer } from '../rdb-constants.js';
import { decodeListpack } from './listpack.js';
import { entryToBuffer } from './packed-entry.js';
import { decodeZiplist } from './ziplist.js';

/** RDB_TYPE_LIST_QUICKLIST (14): node count, then one ziplist blob per node. */
export function readQuicklist(r: ByteReader, decode: boolean): Buffer[] | undefined {
  const nodes = r.len();
  const out: Buffer[] = [];
  for (let n = 0; n < nodes; n++) {
    if (!decode) {
      r.skipString();
      continue;
    }
    const at = r.offset();
    for (const e of decodeZiplist(r.string(), at)) out.push(entryToBuffer(e));
  }
  return decode ? out : undefined;
}

/**
 * RDB_TYPE_LIST_QUICKLIST_2 (18): node count, then per node a container kind (1 = PLAIN: the string is
 * one list element, used for elements above the packed threshold; 2 = PACKED: a listpack) and a string.
 */
export function readQuicklist2(r: ByteReader, decode: boolean): Buffer[] | undefined {
  const nodes = r.len();
  const out: Buffer[] = [];
  for (let n = 0; n < nodes; n++) {
    const containerAt = r.pos;
    const container = r.len();
    if (container !== QuicklistContainer.PLAIN && container !== QuicklistContainer.PACKED) {
      throw r.corrupt(`quicklist node has unknown container type ${container}`, containerAt);
    }
    if (!decode) {
      r.skipString();
      continue;
    }
    const at = r.offset();
    const blob = r.string();
    if (container === QuicklistContainer.PLAIN) out.push(blob);
    else for (const e of decodeListpack(blob, at)) out.push(entryToBuffer(e));
  }
  return decode ? out : undefined;
}
