import type { Cluster, Redis } from 'ioredis';
import { WaitTimeoutError } from './errors.js';
import { parseInfo } from './info.js';

/**
 * Values are JSON-comparable; every key, member, field and value is base64 so binary data compares exactly.
 * Shapes per type:
 * - string: base64
 * - list: base64[] in list order
 * - set: base64[] sorted
 * - zset: `[member, score]` pairs in ZRANGE order (score in shortest round-trip form: Redis 7.0 prints
 *   `%.17g`, 7.2+ the shortest form; the same double compares equal either way)
 * - hash: `[field, value]` pairs sorted by field
 * - stream: {@link StreamContents}
 * - anything else (module types): `{ dump }`, the DUMP payload in base64
 */
export type KeyValue = string | string[] | Array<[string, string]> | StreamContents | { dump: string };

/** A stream with its consumer-group state; volatile fields (idle times, seen-time) are left out. */
export interface StreamContents {
  /** `[id, [field, value, field, value, ...]]` in ID order. */
  entries: Array<[string, string[]]>;
  length: number;
  lastGeneratedId: string;
  /** Redis 7+ only; undefined on older servers. */
  maxDeletedEntryId?: string;
  /** Redis 7+ only. */
  entriesAdded?: number;
  groups: StreamGroupContents[];
}

/** One consumer group; names are base64. */
export interface StreamGroupContents {
  name: string;
  lastDeliveredId: string;
  /** Redis 7+ only; null when the server cannot tell. */
  entriesRead?: number | null;
  pending: number;
  consumers: Array<{ name: string; pending: number }>;
  /** `[id, consumer, deliveryCount]` for every pending entry (idle time left out). */
  pendingEntries: Array<[string, string, number]>;
}

/** One key as found. */
export interface KeyContents {
  type: string;
  /** Whether the key has a TTL (left out when `ttl: 'ignore'`). */
  hasTtl?: boolean;
  /** Absolute expiry in ms since the epoch, derived from PTTL at read time (only with `ttl: 'absolute'`). */
  expiresAt?: number;
  value: KeyValue;
}

/** A whole dataset: db index -> base64 key -> contents. */
export interface RedisContents {
  dbs: Record<string, Record<string, KeyContents>>;
}

/** Options for {@link contentsOf}. */
export interface ContentsOptions {
  /**
   * How expiries are captured: `'absolute'` (expiresAt + hasTtl; diffs compare with a tolerance), `'presence'`
   * (hasTtl only), or `'ignore'`.
   * @defaultValue `'absolute'`
   */
  ttl?: 'absolute' | 'presence' | 'ignore';
  /**
   * Databases to read.
   * @defaultValue every db listed in INFO keyspace (db 0 only for cluster clients)
   */
  dbs?: number[];
  /**
   * SCAN MATCH pattern.
   * @defaultValue `'*'`
   */
  match?: string;
  /**
   * SCAN COUNT hint, also the pipeline batch size.
   * @defaultValue `500`
   */
  batch?: number;
}

type AnyClient = Redis | Cluster;

const b64 = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('base64') : String(value));
const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

function isCluster(client: AnyClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * Reads every key (SCAN per db; per master for cluster clients) with its type, TTL and full value, in a shape
 * {@link diffContents} can compare. Meant for test-sized datasets: collections are read in one command each.
 * The given client is not modified: databases are read through duplicates of it.
 */
export async function contentsOf(client: AnyClient, options: ContentsOptions = {}): Promise<RedisContents> {
  const contents: RedisContents = { dbs: {} };
  if (isCluster(client)) {
    if (client.status !== 'ready') await readyWithin(client, 30_000);
    const db: Record<string, KeyContents> = {};
    for (const node of client.nodes('master')) Object.assign(db, await readDb(node, options));
    contents.dbs['0'] = db;
    return contents;
  }
  const dbs = options.dbs ?? (await keyspaceDbs(client));
  for (const db of dbs) {
    // Always a duplicate: the caller's client may have SELECTed a db its options do not mention.
    const duplicate = client.duplicate({ db, lazyConnect: true });
    try {
      await duplicate.connect();
      contents.dbs[String(db)] = await readDb(duplicate, options);
    } finally {
      duplicate.disconnect();
    }
  }
  return contents;
}

function readyWithin(client: Cluster, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new WaitTimeoutError(`cluster client not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

async function keyspaceDbs(client: Redis): Promise<number[]> {
  const keyspace = parseInfo(await client.info('keyspace'));
  return Object.keys(keyspace)
    .filter((name) => /^db\d+$/.test(name))
    .map((name) => Number(name.slice(2)))
    .sort((a, b) => a - b);
}

async function readDb(client: Redis, options: ContentsOptions): Promise<Record<string, KeyContents>> {
  const batch = options.batch ?? 500;
  const db: Record<string, KeyContents> = {};
  let cursor = '0';
  do {
    const [next, keys] = (await client.callBuffer('SCAN', [
      cursor,
      'MATCH',
      options.match ?? '*',
      'COUNT',
      String(batch),
    ])) as [Buffer, Buffer[]];
    cursor = next.toString();
    Object.assign(db, await readKeys(client, keys, options));
  } while (cursor !== '0');
  return db;
}

async function exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => (error ? error : value));
}

async function readKeys(
  client: Redis,
  keys: Buffer[],
  options: ContentsOptions,
): Promise<Record<string, KeyContents>> {
  if (keys.length === 0) return {};
  const meta = client.pipeline();
  for (const key of keys) meta.callBuffer('TYPE', [key]).callBuffer('PTTL', [key]);
  const metaResults = await exec(meta);
  const readAt = Date.now();
  const values = client.pipeline();
  const types = keys.map((key, i) => {
    const type = text(metaResults[2 * i]);
    queueValueRead(values, key, type);
    return type;
  });
  const valueResults = await exec(values);
  const found: Record<string, KeyContents> = {};
  let offset = 0;
  for (let i = 0; i < keys.length; i++) {
    const type = types[i];
    const width = readWidth(type);
    const replies = valueResults.slice(offset, offset + width);
    offset += width;
    // Expired or deleted between SCAN and the reads: not part of the dataset.
    if (type === 'none' || replies.some((reply) => reply === null || reply instanceof Error)) continue;
    const entry: KeyContents = { type, value: await decodeValue(client, keys[i], type, replies) };
    const pttl = Number(metaResults[2 * i + 1]);
    const ttlMode = options.ttl ?? 'absolute';
    if (ttlMode !== 'ignore') entry.hasTtl = pttl >= 0;
    if (ttlMode === 'absolute' && pttl >= 0) entry.expiresAt = readAt + pttl;
    found[keys[i].toString('base64')] = entry;
  }
  return found;
}

/** Commands queued per key by {@link queueValueRead}, so replies can be sliced back per key. */
function readWidth(type: string): number {
  return type === 'stream' ? 3 : 1;
}

function queueValueRead(pipeline: ReturnType<Redis['pipeline']>, key: Buffer, type: string): void {
  switch (type) {
    case 'string':
      pipeline.callBuffer('GET', [key]);
      break;
    case 'list':
      pipeline.callBuffer('LRANGE', [key, '0', '-1']);
      break;
    case 'set':
      pipeline.callBuffer('SMEMBERS', [key]);
      break;
    case 'zset':
      pipeline.callBuffer('ZRANGE', [key, '0', '-1', 'WITHSCORES']);
      break;
    case 'hash':
      pipeline.callBuffer('HGETALL', [key]);
      break;
    case 'stream':
      pipeline.callBuffer('XRANGE', [key, '-', '+']);
      pipeline.callBuffer('XINFO', ['STREAM', key]);
      pipeline.callBuffer('XINFO', ['GROUPS', key]);
      break;
    case 'none':
      pipeline.callBuffer('PING', []);
      break;
    default:
      pipeline.callBuffer('DUMP', [key]);
  }
}

function pairs(flat: Buffer[]): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([b64(flat[i]), b64(flat[i + 1])]);
  return result;
}

/** A flat `[name, value, ...]` reply (XINFO) as a map with utf8 names. */
function fieldMap(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(text(flat[i]), flat[i + 1]);
  return map;
}

async function decodeValue(client: Redis, key: Buffer, type: string, replies: unknown[]): Promise<KeyValue> {
  const [reply] = replies;
  switch (type) {
    case 'string':
      return b64(reply);
    case 'list':
      return (reply as Buffer[]).map(b64);
    case 'set':
      return (reply as Buffer[]).map(b64).sort();
    case 'zset':
      return pairs(reply as Buffer[]).map(([member, score]): [string, string] => [
        member,
        canonicalScore(Buffer.from(score, 'base64').toString()),
      ]);
    case 'hash':
      return pairs(reply as Buffer[]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    case 'stream':
      return decodeStream(client, key, replies);
    default:
      return { dump: b64(reply) };
  }
}

async function decodeStream(client: Redis, key: Buffer, replies: unknown[]): Promise<StreamContents> {
  const [range, streamInfo, groupInfos] = replies as [Array<[Buffer, Buffer[]]>, unknown[], unknown[][]];
  const info = fieldMap(streamInfo);
  const stream: StreamContents = {
    entries: range.map(([id, fields]) => [text(id), fields.map(b64)]),
    length: Number(info.get('length')),
    lastGeneratedId: text(info.get('last-generated-id')),
    groups: [],
  };
  if (info.has('max-deleted-entry-id')) stream.maxDeletedEntryId = text(info.get('max-deleted-entry-id'));
  if (info.has('entries-added')) stream.entriesAdded = Number(info.get('entries-added'));
  for (const groupInfo of groupInfos) {
    const group = fieldMap(groupInfo);
    const name = group.get('name') as Buffer;
    const [consumers, pendingEntries] = (await client
      .pipeline()
      .callBuffer('XINFO', ['CONSUMERS', key, name])
      .callBuffer('XPENDING', [key, name, '-', '+', String(Number(group.get('pending')) || 1)])
      .exec()
      .then((results) => (results ?? []).map(([error, value]) => (error ? [] : value)))) as [
      unknown[][],
      Array<[Buffer, Buffer, number, number]>,
    ];
    const entry: StreamGroupContents = {
      name: b64(name),
      lastDeliveredId: text(group.get('last-delivered-id')),
      pending: Number(group.get('pending')),
      consumers: consumers
        .map((consumer) => fieldMap(consumer))
        .map((consumer) => ({ name: b64(consumer.get('name')), pending: Number(consumer.get('pending')) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      pendingEntries: pendingEntries.map(([id, consumer, , deliveries]) => [
        text(id),
        b64(consumer),
        Number(deliveries),
      ]),
    };
    if (group.has('entries-read')) {
      const entriesRead = group.get('entries-read');
      entry.entriesRead = entriesRead === null ? null : Number(entriesRead);
    }
    stream.groups.push(entry);
  }
  stream.groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return stream;
}

/** A score as one text per double, whichever way the server printed it (`0.10000000000000001` and `0.1` alike). */
function canonicalScore(text: string): string {
  const value = Number(text);
  if (text === 'inf' || text === '+inf' || value === Infinity) return 'inf';
  if (text === '-inf' || value === -Infinity) return '-inf';
  return Number.isNaN(value) ? text : String(value);
}
