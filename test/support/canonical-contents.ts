import type { Redis } from 'ioredis';
import { bytesToJson, functionsLine } from '@shardbridge/rdb';

/**
 * What a live server holds, in the RDB corpus's canonical JSON Lines (../shared/rdb-corpus/README.md): an optional
 * functions line, then one record per key sorted by db and raw key bytes. Lets a test compare a target with
 * `expected/<name>.jsonl` line by line. Meant for test-sized datasets (one command per collection).
 */
export async function canonicalLines(
  clients: Array<{ client: Redis; dbs: number[] }>,
  options: { functionsFrom: Redis },
): Promise<string[]> {
  const records: Array<{ db: number; key: Buffer; line: string }> = [];
  const fieldTtl = await supportsFieldTtl(options.functionsFrom);
  for (const { client, dbs } of clients) {
    for (const db of dbs) {
      const conn = client.duplicate({ db });
      try {
        const keys = await scanAll(conn);
        for (let i = 0; i < keys.length; i += BATCH) {
          const batch = keys.slice(i, i + BATCH);
          const meta = conn.pipeline();
          for (const key of batch) meta.type(key).call('PEXPIRETIME', key);
          const replies = ((await meta.exec()) ?? []).map(([error, reply]) => {
            if (error) throw error;
            return reply;
          });
          const lines = await Promise.all(
            batch.map((key, j) =>
              keyLine(
                conn,
                { db, key, type: String(replies[2 * j]), expire: Number(replies[2 * j + 1]) },
                fieldTtl,
              ),
            ),
          );
          batch.forEach((key, j) => lines[j] && records.push({ db, key, line: lines[j] }));
        }
      } finally {
        conn.disconnect();
      }
    }
  }
  records.sort((a, b) => a.db - b.db || Buffer.compare(a.key, b.key));
  const libraries = (await options.functionsFrom.callBuffer('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  const codes = libraries.map((library) => fieldMap(library).get('library_code') as Buffer);
  const first = functionsLine(codes);
  return [...(first === undefined ? [] : [first]), ...records.map((r) => r.line)];
}

/** Keys read concurrently: ioredis pipelines the commands of one tick on the connection. */
const BATCH = 5000;

/** Databases that hold keys (INFO keyspace). */
export async function keyspaceDbs(client: Redis): Promise<number[]> {
  const info = await client.info('keyspace');
  return [...info.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

async function supportsFieldTtl(client: Redis): Promise<boolean> {
  const reply = (await client.call('COMMAND', 'INFO', 'HPEXPIRETIME')) as unknown[];
  return reply[0] !== null;
}

async function scanAll(client: Redis): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await client.callBuffer('SCAN', cursor, 'COUNT', '1000')) as [Buffer, Buffer[]];
    cursor = next.toString();
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

function fieldMap(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));

function score(reply: Buffer): number | string {
  const s = reply.toString('latin1');
  if (s === 'inf' || s === '+inf') return 'inf';
  if (s === '-inf') return '-inf';
  const n = Number(s);
  return n === 0 ? 0 : n;
}

async function keyLine(
  client: Redis,
  { db, key, type, expire }: { db: number; key: Buffer; type: string; expire: number },
  fieldTtl: boolean,
): Promise<string | null> {
  let value: unknown;
  switch (type) {
    case 'none':
      return null;
    case 'string':
      value = bytesToJson((await client.callBuffer('GET', key)) as Buffer);
      break;
    case 'list':
      value = ((await client.callBuffer('LRANGE', key, '0', '-1')) as Buffer[]).map(bytesToJson);
      break;
    case 'set':
      value = ((await client.callBuffer('SMEMBERS', key)) as Buffer[]).sort(Buffer.compare).map(bytesToJson);
      break;
    case 'zset': {
      const flat = (await client.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
      const pairs: Array<[unknown, number | string]> = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([bytesToJson(flat[i]), score(flat[i + 1])]);
      value = pairs;
      break;
    }
    case 'hash':
      value = await hashValue(client, key, fieldTtl);
      break;
    case 'stream':
      value = await streamValue(client, key);
      break;
    default:
      value = { dump: ((await client.callBuffer('DUMP', key)) as Buffer).toString('base64') };
  }
  return JSON.stringify({ db, key: bytesToJson(key), type, expireAt: expire >= 0 ? expire : null, value });
}

async function hashValue(client: Redis, key: Buffer, fieldTtl: boolean): Promise<unknown> {
  const flat = (await client.callBuffer('HGETALL', key)) as Buffer[];
  const fields: Array<{ field: Buffer; value: Buffer }> = [];
  for (let i = 0; i < flat.length; i += 2) fields.push({ field: flat[i], value: flat[i + 1] });
  fields.sort((a, b) => Buffer.compare(a.field, b.field));
  let ttls: number[] = fields.map(() => -1);
  if (fieldTtl && fields.length > 0) {
    ttls = (await client.callBuffer(
      'HPEXPIRETIME',
      key,
      'FIELDS',
      String(fields.length),
      ...fields.map((f) => f.field),
    )) as number[];
  }
  return fields.map((f, i) => [bytesToJson(f.field), bytesToJson(f.value), ttls[i] >= 0 ? ttls[i] : null]);
}

async function streamValue(client: Redis, key: Buffer): Promise<unknown> {
  const info = fieldMap((await client.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0')) as unknown[]);
  const entries = (info.get('entries') as Array<[Buffer, Buffer[]]>).map(([id, fields]) => [
    text(id),
    fields.map(bytesToJson),
  ]);
  const groups = (info.get('groups') as unknown[][]).map((flat) => {
    const group = fieldMap(flat);
    const entriesRead = group.get('entries-read');
    return {
      name: bytesToJson(group.get('name') as Buffer),
      lastDeliveredId: text(group.get('last-delivered-id')),
      entriesRead: entriesRead === null || entriesRead === undefined ? null : Number(entriesRead),
      pending: (group.get('pending') as Array<[Buffer, Buffer, number, number]>).map(
        ([id, consumer, , count]) => [text(id), bytesToJson(consumer), Number(count)],
      ),
      consumers: (group.get('consumers') as unknown[][])
        .map((c) => fieldMap(c))
        .map((c) => ({
          nameBytes: c.get('name') as Buffer,
          pending: (c.get('pending') as Array<[Buffer]>).map(([id]) => text(id)),
        }))
        .sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes))
        .map((c) => ({ name: bytesToJson(c.nameBytes), pending: c.pending })),
      nameBytes: group.get('name') as Buffer,
    };
  });
  groups.sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
  return {
    entries,
    length: Number(info.get('length')),
    lastId: text(info.get('last-generated-id')),
    firstId: text(info.get('recorded-first-entry-id')),
    maxDeletedId: text(info.get('max-deleted-entry-id')),
    entriesAdded: Number(info.get('entries-added')),
    groups: groups.map(({ nameBytes: _unused, ...group }) => group),
  };
}
