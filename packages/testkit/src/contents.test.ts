import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RedisCluster } from './cluster.js';
import { contentsOf } from './contents.js';
import { assertSameContents, ContentsMismatchError, diffContents } from './contents-diff.js';
import { startRedis, type RedisServer } from './redis-server.js';

const BINARY_KEY = Buffer.from([0x00, 0xff, 0x10, 0x80]);

async function populate(client: Redis, db = 0): Promise<void> {
  await client.select(db);
  await client.set('str', 'hello');
  await client.set(BINARY_KEY, Buffer.from([1, 2, 3, 0, 255]));
  await client.set('expiring', 'soon', 'EX', 3600);
  await client.rpush('list', 'a', 'b', 'a');
  await client.sadd('set', 'x', 'y', 'z');
  await client.zadd('zset', 1.5, 'one', -2, 'two', 'inf', 'top');
  await client.hset('hash', { f1: 'v1', f2: 'v2' });
  await client.xadd('stream', '1-1', 'a', '1');
  await client.xadd('stream', '2-1', 'b', '2');
  await client.xadd('stream', '3-1', 'c', '3');
  await client.xdel('stream', '3-1');
  await client.xgroup('CREATE', 'stream', 'g1', '0');
  await client.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '1', 'STREAMS', 'stream', '>');
  await client.select(0);
}

/** Copies every key of `db` with DUMP/RESTORE (which keeps TTLs and stream group state). */
async function copyDb(from: Redis, to: Redis, db: number): Promise<void> {
  await from.select(db);
  await to.select(db);
  for (const key of await from.keysBuffer('*')) {
    const [dump, pttl] = await Promise.all([from.dumpBuffer(key), from.pttl(key)]);
    await to.restore(key, pttl > 0 ? pttl : 0, dump!, 'REPLACE');
  }
  await from.select(0);
  await to.select(0);
}

describe('contentsOf / diffContents (standalone)', () => {
  let source: RedisServer;
  let target: RedisServer;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const client = source.client();
    await populate(client, 0);
    await populate(client, 3);
    const targetClient = target.client();
    await copyDb(client, targetClient, 0);
    await copyDb(client, targetClient, 3);
  });
  afterAll(() => Promise.all([source?.stop(), target?.stop()]));

  it('captures every type, binary keys and stream state', async () => {
    const contents = await contentsOf(source.client());
    expect(Object.keys(contents.dbs)).toEqual(['0', '3']);
    const db0 = contents.dbs['0'];
    const key = (name: string | Buffer) => Buffer.from(name).toString('base64');
    expect(db0[key('str')]).toEqual({ type: 'string', hasTtl: false, value: key('hello') });
    expect(db0[key(BINARY_KEY)].value).toBe(Buffer.from([1, 2, 3, 0, 255]).toString('base64'));
    expect(db0[key('expiring')].hasTtl).toBe(true);
    expect(db0[key('expiring')].expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect(db0[key('set')].value).toEqual(['x', 'y', 'z'].map(key).sort());
    expect(db0[key('zset')].value).toEqual([
      [key('two'), '-2'],
      [key('one'), '1.5'],
      [key('top'), 'inf'],
    ]);
    expect(db0[key('stream')].value).toMatchObject({
      length: 2,
      lastGeneratedId: '3-1',
      maxDeletedEntryId: '3-1',
      entriesAdded: 3,
      groups: [
        {
          name: key('g1'),
          lastDeliveredId: '1-1',
          pending: 1,
          consumers: [{ name: key('alice'), pending: 1 }],
          pendingEntries: [['1-1', key('alice'), 1]],
        },
      ],
    });
  });

  it('finds no difference between a source and its DUMP/RESTORE copy', async () => {
    await assertSameContents(source.client(), target.client());
  });

  it('reports missing keys, value, type, ttl and stream-state differences', async () => {
    const before = await contentsOf(target.client());
    const client = target.client();
    await client.del('str');
    await client.hset('hash', 'f2', 'changed');
    await client.persist('expiring');
    await client.del('set');
    await client.set('set', 'now a string');
    await client.xack('stream', 'g1', '1-1');
    await client.select(3);
    await client.set('extra', '1');
    const after = await contentsOf(client);
    const differences = diffContents(before, after);
    expect(differences.map(({ db, key, kind }) => `${db} ${key} ${kind}`)).toEqual([
      '0 expiring ttl',
      '0 hash value',
      '0 set type',
      '0 str missing-in-b',
      '0 stream value',
      '3 extra missing-in-a',
    ]);
    expect(differences.find((d) => d.key === 'stream')?.detail).toMatch(/groups/);
    const error = await assertSameContents(before, after).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentsMismatchError);
    expect((error as Error).message).toContain('db0 hash: value');
  });

  it('ignores small expiry drift but not large', () => {
    const at = (expiresAt: number) => ({
      dbs: { '0': { a: { type: 'string', hasTtl: true, expiresAt, value: 'x' } } },
    });
    expect(diffContents(at(10_000), at(11_000))).toEqual([]);
    expect(diffContents(at(10_000), at(20_000))).toHaveLength(1);
    expect(diffContents(at(10_000), at(20_000), { ttlToleranceMs: 20_000 })).toEqual([]);
  });
});

describe('contentsOf (cluster)', () => {
  let cluster: RedisCluster;
  let standalone: RedisServer;
  beforeAll(async () => {
    [cluster, standalone] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  afterAll(() => Promise.all([cluster?.stop(), standalone?.stop()]));

  it('reads every master and compares against a standalone server', async () => {
    const clusterClient = cluster.client();
    const plain = standalone.client();
    for (let i = 0; i < 100; i++) {
      await clusterClient.set(`k${i}`, String(i), 'EX', 1000);
      await plain.set(`k${i}`, String(i), 'EX', 1000);
    }
    await clusterClient.hset('h', 'f', 'v');
    await plain.hset('h', 'f', 'v');
    const contents = await contentsOf(clusterClient);
    expect(Object.keys(contents.dbs['0'])).toHaveLength(101);
    await assertSameContents(clusterClient, plain);
    await plain.set('k0', 'other');
    await expect(assertSameContents(clusterClient, plain)).rejects.toThrow(/k0: value/);
  });
});
