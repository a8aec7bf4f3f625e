import type { RdbKeyRecord, RdbValue, StreamId, StreamValue } from './types.js';

/**
 * The corpus's canonical JSON Lines form of an RDB's contents (see ../shared/rdb-corpus/README.md from the repository root):
 * bytes as a string when valid UTF-8 without U+FFFD, else `{"base64": ...}`; keys sorted by db then raw
 * bytes; sets and hash fields by raw bytes; zsets by score then member; -0 written as 0; infinite
 * scores as "inf"/"-inf"; stream delivery/seen times left out. Keys the server would drop on load
 * (expired, or empty collections) are dropped.
 */

export type JsonBytes = string | { base64: string };

export function bytesToJson(b: Buffer): JsonBytes {
  const text = b.toString('utf8');
  return text.includes('\uFFFD') ? { base64: b.toString('base64') } : text;
}

function scoreToJson(score: number): number | string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Number.isNaN(score)) return 'nan';
  return score === 0 ? 0 : score;
}

function idToJson(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

function byName<T extends { name: Buffer }>(a: T, b: T): number {
  return Buffer.compare(a.name, b.name);
}

function streamToJson(s: StreamValue): unknown {
  return {
    entries: s.entries.map((e) => [idToJson(e.id), e.fields.map(bytesToJson)]),
    length: s.length,
    lastId: idToJson(s.lastId),
    firstId: idToJson(s.firstId),
    maxDeletedId: idToJson(s.maxDeletedId),
    entriesAdded: s.entriesAdded,
    groups: [...s.groups].sort(byName).map((g) => ({
      name: bytesToJson(g.name),
      lastDeliveredId: idToJson(g.lastDeliveredId),
      entriesRead: g.entriesRead,
      pending: g.pending.map((p) => [idToJson(p.id), p.consumer && bytesToJson(p.consumer), p.deliveryCount]),
      consumers: [...g.consumers]
        .sort(byName)
        .map((c) => ({ name: bytesToJson(c.name), pending: c.pending.map(idToJson) })),
    })),
  };
}

/**
 * Canonical JSON of a value, or undefined when the server would drop the key as empty.
 * Hash fields whose TTL is before `now` are dropped first, as the server never shows them.
 */
export function valueToCanonical(v: RdbValue, now: number): unknown {
  switch (v.type) {
    case 'string':
      return bytesToJson(v.value);
    case 'list':
      return v.value.length === 0 ? undefined : v.value.map(bytesToJson);
    case 'set':
      return v.value.length === 0 ? undefined : [...v.value].sort(Buffer.compare).map(bytesToJson);
    case 'zset':
      if (v.value.length === 0) return undefined;
      return [...v.value]
        .sort((a, b) => a.score - b.score || Buffer.compare(a.member, b.member))
        .map((m) => [bytesToJson(m.member), scoreToJson(m.score)]);
    case 'hash': {
      const live = v.value.filter((f) => f.expireAt === null || f.expireAt >= now);
      if (live.length === 0) return undefined;
      return live
        .sort((a, b) => Buffer.compare(a.field, b.field))
        .map((f) => [bytesToJson(f.field), bytesToJson(f.value), f.expireAt]);
    }
    case 'stream':
      return streamToJson(v.value);
    case 'module':
      return { moduleId: v.moduleId.toString() };
  }
}

/**
 * One canonical line for a decoded key, or undefined when the server would drop it on load
 * (`expireAt < now`, or an empty collection). Requires a record parsed with `decode: true`.
 */
export function recordToCanonicalLine(rec: RdbKeyRecord, now: number): string | undefined {
  if (!rec.value) throw new Error('recordToCanonicalLine needs a decoded record (decode: true)');
  if (rec.expireAt !== null && rec.expireAt < now) return undefined;
  const value = valueToCanonical(rec.value, now);
  if (value === undefined) return undefined;
  return JSON.stringify({
    db: rec.db,
    key: bytesToJson(rec.key),
    type: rec.value.type,
    expireAt: rec.expireAt,
    value,
  });
}

/** The optional first line: function library sources sorted by raw bytes; undefined when there are none. */
export function functionsLine(libraries: Buffer[]): string | undefined {
  if (libraries.length === 0) return undefined;
  return JSON.stringify({ functions: [...libraries].sort(Buffer.compare).map(bytesToJson) });
}
