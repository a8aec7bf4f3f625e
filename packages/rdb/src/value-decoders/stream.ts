import type { ByteReader } from '../byte-reader.js';
import { RdbCorruptError } from '../errors.js';
import { RdbType } from '../rdb-constants.js';
import type { StreamId, StreamValue } from '../types.js';
import { decodeListpack } from './listpack.js';
import { entryToBuffer, entryToInt, type PackedEntry } from './packed-entry.js';

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const U64_MAX = 0xffffffffffffffffn;
const ZERO_ID: StreamId = { ms: 0n, seq: 0n };

type StreamEntry = StreamValue['entries'][number];
type StreamGroup = StreamValue['groups'][number];
type StreamNack = StreamGroup['pending'][number];

function idFromRaw(raw: Buffer): StreamId {
  return { ms: raw.readBigUInt64BE(0), seq: raw.readBigUInt64BE(8) };
}

function idKey(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

function toBigInt(e: PackedEntry): bigint | undefined {
  if (typeof e === 'number') return BigInt(e);
  const text = e.toString('latin1');
  return /^-?\d+$/.test(text) ? BigInt(text) : undefined;
}

/**
 * Entries of one stream radix-tree node: a listpack whose first element group is the "master entry"
 * (count, deleted, master field names, 0), followed by entries
 * `flags, ms-delta, seq-delta, [values | nfields, field, value...], lp-count`, IDs relative to `master`.
 */
function decodeNode(master: StreamId, lp: Buffer, at: number, out: StreamEntry[]): void {
  const e = decodeListpack(lp, at);
  const bad = (what: string): RdbCorruptError =>
    new RdbCorruptError(at, `stream listpack integrity check failed: ${what}`);
  if (e.length === 0) throw bad('empty listpack inside stream');
  const int = (i: number): number => {
    if (i >= e.length) throw bad('entry runs past the listpack end');
    const v = entryToInt(e[i]);
    if (v === undefined || v < 0) throw bad(`expected a non-negative integer at element ${i}`);
    return v;
  };
  const masterFieldCount = int(2);
  let i = 3 + masterFieldCount;
  if (int(i) !== 0) throw bad('master entry is not terminated by 0');
  const masterFields = e.slice(3, i).map(entryToBuffer);
  i += 1;
  while (i < e.length) {
    const flags = int(i);
    if (i + 2 >= e.length) throw bad('entry runs past the listpack end');
    const msDelta = toBigInt(e[i + 1]);
    const seqDelta = toBigInt(e[i + 2]);
    if (msDelta === undefined || seqDelta === undefined) throw bad('entry ID delta is not an integer');
    i += 3;
    const fields: Buffer[] = [];
    if (flags & FLAG_SAMEFIELDS) {
      if (i + masterFieldCount > e.length) throw bad('entry runs past the listpack end');
      for (let f = 0; f < masterFieldCount; f++) fields.push(masterFields[f], entryToBuffer(e[i + f]));
      i += masterFieldCount;
    } else {
      const n = int(i);
      i += 1;
      if (i + 2 * n > e.length) throw bad('entry runs past the listpack end');
      for (let f = 0; f < 2 * n; f++) fields.push(entryToBuffer(e[i + f]));
      i += 2 * n;
    }
    int(i); // lp-count: element count of this entry, used by Redis for backwards iteration
    i += 1;
    if (!(flags & FLAG_DELETED)) {
      out.push({ id: { ms: master.ms + msDelta, seq: master.seq + seqDelta }, fields });
    }
  }
}

function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

function isZero(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}

/**
 * A consumer group's entries-read counter for streams stored without it (type 15), estimated the way
 * the server does on load (streamEstimateDistanceFromFirstEverEntry); null where it cannot know.
 */
function estimateEntriesRead(
  s: Pick<StreamValue, 'length' | 'lastId' | 'firstId' | 'maxDeletedId' | 'entriesAdded'>,
  id: StreamId,
): number | null {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && compareIds(id, s.lastId) < 1) return s.entriesAdded;
  if (!isZero(id) && compareIds(id, s.maxDeletedId) < 0) return null;
  const cmpLast = compareIds(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return null;
  if (isZero(s.maxDeletedId) || compareIds(s.maxDeletedId, s.firstId) < 0) {
    const cmpFirst = compareIds(id, s.firstId);
    if (cmpFirst < 0) return s.entriesAdded - s.length;
    if (cmpFirst === 0) return s.entriesAdded - s.length + 1;
  }
  return null;
}

function readId(r: ByteReader): StreamId {
  const ms = r.lenBig();
  return { ms, seq: r.lenBig() };
}

/**
 * Reads a stream value (RDB types 15, 19, 21). Returns undefined when `decode` is false (the bytes are
 * still walked so the value's end is found). For type 15 the fields a v2 stream stores explicitly are
 * derived the way the server does on load: firstId = first live entry, maxDeletedId = 0-0,
 * entriesAdded = length, entriesRead estimated from the group's last-delivered ID.
 */
export function readStream(r: ByteReader, rdbType: number, decode: boolean): StreamValue | undefined {
  const entries: StreamEntry[] = [];
  const nodeCount = r.len();
  for (let n = 0; n < nodeCount; n++) {
    const keyAt = r.pos;
    const nodeKey = r.string();
    if (nodeKey.length !== 16) throw r.corrupt('stream node key is not the size of a stream ID', keyAt);
    const lpAt = r.pos;
    if (!decode) {
      r.skipString();
      continue;
    }
    decodeNode(idFromRaw(nodeKey), r.string(), r.offset(lpAt), entries);
  }
  const length = r.len();
  const lastId = readId(r);
  let firstId = entries.length > 0 ? entries[0].id : ZERO_ID;
  let maxDeletedId = ZERO_ID;
  let entriesAdded = length;
  const v2 = rdbType >= RdbType.STREAM_LISTPACKS_2;
  if (v2) {
    firstId = readId(r);
    maxDeletedId = readId(r);
    entriesAdded = r.len();
  }
  const groups: StreamGroup[] = [];
  const groupCount = r.len();
  for (let g = 0; g < groupCount; g++) {
    const name = r.string();
    const lastDeliveredId = readId(r);
    let entriesRead: number | null;
    if (v2) {
      const raw = r.lenBig();
      entriesRead = raw === U64_MAX ? null : Number(raw);
    } else {
      entriesRead = estimateEntriesRead(
        { length, lastId, firstId, maxDeletedId, entriesAdded },
        lastDeliveredId,
      );
    }
    const pending: StreamGroup['pending'] = [];
    const byId = new Map<string, StreamNack>();
    const pelCount = r.len();
    for (let p = 0; p < pelCount; p++) {
      const id = idFromRaw(r.view(16));
      const deliveryTime = r.millis();
      const deliveryCount = r.len();
      const nack: StreamNack = { id, consumer: null, deliveryTime, deliveryCount };
      pending.push(nack);
      byId.set(idKey(id), nack);
    }
    const consumers: StreamGroup['consumers'] = [];
    const consumerCount = r.len();
    for (let c = 0; c < consumerCount; c++) {
      const consumerName = r.string();
      const seenTime = r.millis();
      const activeTime = rdbType >= RdbType.STREAM_LISTPACKS_3 ? r.millis() : null;
      const ids: StreamId[] = [];
      const count = r.len();
      for (let p = 0; p < count; p++) {
        const idAt = r.pos;
        const id = idFromRaw(r.view(16));
        const nack = byId.get(idKey(id));
        if (!nack) throw r.corrupt('consumer PEL entry not found in the group PEL', idAt);
        nack.consumer = consumerName;
        ids.push(id);
      }
      consumers.push({ name: consumerName, seenTime, activeTime, pending: ids });
    }
    groups.push({ name, lastDeliveredId, entriesRead, pending, consumers });
  }
  if (!decode) return undefined;
  return { entries, length, lastId, firstId, maxDeletedId, entriesAdded, groups };
}
