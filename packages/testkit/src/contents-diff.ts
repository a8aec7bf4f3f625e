import { isDeepStrictEqual } from 'node:util';
import type { Cluster, Redis } from 'ioredis';
import {
  contentsOf,
  type ContentsOptions,
  type KeyContents,
  type RedisContents,
  type StreamContents,
} from './contents.js';
import { TestkitError } from './errors.js';

/** One way two datasets differ. */
export interface ContentDifference {
  db: string;
  /** The key, readable when printable ASCII, else `base64:<...>`. */
  key: string;
  kind: 'missing-in-a' | 'missing-in-b' | 'type' | 'ttl' | 'value';
  detail: string;
}

/** Options for {@link diffContents}. */
export interface DiffOptions {
  /**
   * Largest difference between two absolute expiries still counted as equal, in ms. Covers the time between
   * reading the two sides and TTL rounding during a migration.
   * @defaultValue `2000`
   */
  ttlToleranceMs?: number;
  /**
   * Compare consumer groups' `entries-read`. Redis 7.0 does not replicate it exactly after XDEL (a native replica
   * ends up with `null` where the master has a number), so comparing a master with any copy made through
   * replication needs `'ignore'`; compare a copy with a native replica exactly instead.
   * @defaultValue `'compare'`
   */
  streamEntriesRead?: 'compare' | 'ignore';
}

/** `assertSameContents` found differences; `differences` holds all of them. */
export class ContentsMismatchError extends TestkitError {
  constructor(readonly differences: ContentDifference[]) {
    super('TESTKIT_CONTENTS_MISMATCH', `datasets differ:\n${formatDifferences(differences)}`);
  }
}

/** A key as a person would type it, or base64 when it is not printable ASCII. */
export function printableKey(base64Key: string): string {
  const raw = Buffer.from(base64Key, 'base64');
  const latin1 = raw.toString('latin1');
  return /^[\x20-\x7e]*$/.test(latin1) ? latin1 : `base64:${base64Key}`;
}

/** Every difference between `a` and `b`, sorted by db and printable key; empty when they hold the same data. */
export function diffContents(
  a: RedisContents,
  b: RedisContents,
  options: DiffOptions = {},
): ContentDifference[] {
  const tolerance = options.ttlToleranceMs ?? 2000;
  const differences: ContentDifference[] = [];
  const dbs = [...new Set([...Object.keys(a.dbs), ...Object.keys(b.dbs)])].sort(
    (x, y) => Number(x) - Number(y),
  );
  for (const db of dbs) {
    const left = a.dbs[db] ?? {};
    const right = b.dbs[db] ?? {};
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
    const found: ContentDifference[] = [];
    for (const key of keys) {
      const difference = diffKey(prepare(left[key], options), prepare(right[key], options), tolerance);
      if (difference) found.push({ db, key: printableKey(key), ...difference });
    }
    differences.push(...found.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)));
  }
  return differences;
}

function prepare(contents: KeyContents | undefined, options: DiffOptions): KeyContents | undefined {
  if (!contents || contents.type !== 'stream' || options.streamEntriesRead !== 'ignore') return contents;
  const stream = contents.value as StreamContents;
  return {
    ...contents,
    value: { ...stream, groups: stream.groups.map((group) => ({ ...group, entriesRead: null })) },
  };
}

function diffKey(
  a: KeyContents | undefined,
  b: KeyContents | undefined,
  tolerance: number,
): Pick<ContentDifference, 'kind' | 'detail'> | undefined {
  if (!a && !b) return undefined;
  if (!a) return { kind: 'missing-in-a', detail: `${b!.type} only in b` };
  if (!b) return { kind: 'missing-in-b', detail: `${a.type} only in a` };
  if (a.type !== b.type) return { kind: 'type', detail: `${a.type} vs ${b.type}` };
  if (!isDeepStrictEqual(a.value, b.value)) return { kind: 'value', detail: describeValueDifference(a, b) };
  if (a.hasTtl !== b.hasTtl) {
    return { kind: 'ttl', detail: `${a.hasTtl ? 'has' : 'no'} ttl vs ${b.hasTtl ? 'has' : 'no'} ttl` };
  }
  if (
    a.expiresAt !== undefined &&
    b.expiresAt !== undefined &&
    Math.abs(a.expiresAt - b.expiresAt) > tolerance
  ) {
    return {
      kind: 'ttl',
      detail: `expires ${new Date(a.expiresAt).toISOString()} vs ${new Date(b.expiresAt).toISOString()}`,
    };
  }
  return undefined;
}

function short(value: unknown): string {
  // undefined: one list is longer than the other, so the index is past its end
  const json = JSON.stringify(value) ?? 'nothing';
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** A one-line hint at where two values of the same type part ways. */
function describeValueDifference(a: KeyContents, b: KeyContents): string {
  const left = a.value;
  const right = b.value;
  if (Array.isArray(left) && Array.isArray(right)) {
    const index = left.findIndex((item, i) => !isDeepStrictEqual(item, right[i]));
    const at = index === -1 ? left.length : index;
    return `${a.type}: length ${left.length} vs ${right.length}, first difference at index ${at}: ${short(left[at])} vs ${short(right[at])}`;
  }
  if (typeof left === 'object' && typeof right === 'object' && left && right) {
    const fields = [...new Set([...Object.keys(left), ...Object.keys(right)])].filter(
      (field) => !isDeepStrictEqual((left as never)[field], (right as never)[field]),
    );
    return `${a.type}: ${fields
      .map((field) => `${field} ${short((left as never)[field])} vs ${short((right as never)[field])}`)
      .join('; ')}`;
  }
  return `${a.type}: ${short(left)} vs ${short(right)}`;
}

/** One difference per line, at most `limit` of them. */
export function formatDifferences(differences: ContentDifference[], limit = 20): string {
  const lines = differences
    .slice(0, limit)
    .map((difference) => `db${difference.db} ${difference.key}: ${difference.kind} (${difference.detail})`);
  if (differences.length > limit) lines.push(`... and ${differences.length - limit} more`);
  return lines.join('\n');
}

type Source = RedisContents | Redis | Cluster;

function isContents(source: Source): source is RedisContents {
  return typeof (source as RedisContents).dbs === 'object' && !('status' in source);
}

/**
 * Throws {@link ContentsMismatchError} unless `a` and `b` hold the same data. Each side is a dump from
 * {@link contentsOf} or a client to dump (both sides read with `contentsOptions`).
 */
export async function assertSameContents(
  a: Source,
  b: Source,
  options: DiffOptions & { contents?: ContentsOptions } = {},
): Promise<void> {
  const [left, right] = await Promise.all(
    [a, b].map((source) => (isContents(source) ? source : contentsOf(source, options.contents))),
  );
  const differences = diffContents(left, right, options);
  if (differences.length > 0) throw new ContentsMismatchError(differences);
}
