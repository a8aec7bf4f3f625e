import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { DbClient } from './db-client.js';
import { compareKey, ttlAgrees, type KeyCompareOptions } from './key-compare.js';

// Real servers on both sides: the comparison is judged on what Redis answers, encodings included.
describe('compareKey', () => {
  let left: RedisServer;
  let right: RedisServer;
  let a: Redis;
  let b: Redis;
  let source: { node: DbClient; db: number };
  let target: { node: DbClient; db: number };
  const options: KeyCompareOptions = { ttlToleranceMs: 2000, bigKeyBytes: 1024 * 1024, sameVersion: true };
  const verdict = (key: string, overrides: Partial<KeyCompareOptions> = {}) =>
    compareKey(source, target, Buffer.from(key), { ...options, ...overrides });

  beforeAll(async () => {
    [left, right] = await Promise.all([startRedis(), startRedis()]);
    a = left.client();
    b = right.client();
    source = { node: new DbClient(left.client(), 'source'), db: 0 };
    target = { node: new DbClient(right.client(), 'target'), db: 0 };
  });
  afterAll(async () => {
    await Promise.all([left?.stop(), right?.stop()]);
  });

  it('agrees on equal keys of every type, and on a key neither side holds', async () => {
    for (const client of [a, b]) {
      await client.set('s', 'v', 'PX', 600_000);
      await client.rpush('l', 'x', 'y');
      await client.hset('h', { f: '1', g: '2' });
      await client.sadd('set', 'm1', 'm2');
      await client.zadd('z', 1, 'a', 2, 'b');
      await client.xadd('x', '1-1', 'k', 'v');
    }
    for (const key of ['s', 'l', 'h', 'set', 'z', 'x', 'absent']) expect(await verdict(key), key).toBeNull();
  });

  it('names missing, extra, type, value and ttl differences', async () => {
    await a.set('only-source', '1');
    await b.set('only-target', '1');
    await a.set('typed', '1');
    await b.rpush('typed', '1');
    await a.set('valued', 'one');
    await b.set('valued', 'two');
    await a.set('timed', '1', 'PX', 3_600_000);
    await b.set('timed', '1', 'PX', 60_000);
    await a.set('forever', '1');
    await b.set('forever', '1', 'PX', 60_000);
    expect((await verdict('only-source'))?.kind).toBe('missing');
    expect((await verdict('only-target'))?.kind).toBe('extra');
    expect(await verdict('typed')).toMatchObject({
      kind: 'type',
      source: { type: 'string' },
      target: { type: 'list' },
    });
    expect((await verdict('valued'))?.kind).toBe('value');
    expect((await verdict('timed'))?.kind).toBe('ttl');
    expect((await verdict('forever'))?.kind).toBe('ttl');
  });

  it('sees equal content behind different encodings (DUMP payloads differ)', async () => {
    // Grown past the listpack limit and shrunk back: a hashtable on the target, a listpack on the source.
    await a.hset('enc', { f: '1' });
    await b.hset('enc', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x${i}`, 'v'])));
    await b.del('enc');
    await b.config('SET', 'hash-max-listpack-entries', '0');
    await b.hset('enc', { f: '1' });
    await b.config('SET', 'hash-max-listpack-entries', '128');
    expect(await a.object('ENCODING', 'enc')).not.toBe(await b.object('ENCODING', 'enc'));
    expect(await verdict('enc')).toBeNull();
    await b.hset('enc', { f: '2' });
    expect((await verdict('enc'))?.kind).toBe('value');
  });

  it('compares big keys by windows and names the differing list element', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 'a');
    for (const client of [a, b]) await client.rpush('big', 'head', big, 'tail');
    expect(await verdict('big')).toBeNull();
    const changed = Buffer.from(big);
    changed[5_000_000] = 'b'.charCodeAt(0);
    await b.lset('big', 1, changed);
    const found = await verdict('big');
    expect(found).toMatchObject({ kind: 'value', detail: 'element 1 differs' });
    // Also without DUMP (different versions): the content path alone finds it.
    expect((await verdict('big', { sameVersion: false }))?.kind).toBe('value');
    await a.set('bigstr', big);
    await b.set('bigstr', changed);
    expect(await verdict('bigstr')).toMatchObject({ kind: 'value', detail: 'bytes from 5000000 differ' });
  });

  it('tolerates TTLs within the tolerance only', () => {
    expect(ttlAgrees(10_000, 9_000, 2000)).toBe(true);
    expect(ttlAgrees(10_000, 5_000, 2000)).toBe(false);
    expect(ttlAgrees(-1, -1, 2000)).toBe(true);
    expect(ttlAgrees(-1, 5_000, 2000)).toBe(false);
  });

  it('compares every type by content alone (different versions) and finds a change in each', async () => {
    const crossVersion = { sameVersion: false };
    const fields = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`f${i}`, `v${i}`]));
    for (const client of [a, b]) {
      await client.hset('cv:hash', fields);
      await client.sadd('cv:set', ...Array.from({ length: 2000 }, (_, i) => `m${i}`));
      await client.zadd('cv:zset', ...Array.from({ length: 1500 }, (_, i) => [i / 3, `z${i}`]).flat());
      for (let i = 1; i <= 30; i++) await client.xadd('cv:stream', `${i}-0`, 'n', String(i));
      await client.rpush('cv:list', ...Array.from({ length: 2500 }, (_, i) => `e${i}`));
    }
    for (const key of ['cv:hash', 'cv:set', 'cv:zset', 'cv:stream', 'cv:list']) {
      expect(await verdict(key, crossVersion), key).toBeNull();
      // Tiny windows: many HSCAN/SSCAN/ZRANGE/XRANGE/LRANGE steps per key.
      expect(await verdict(key, { ...crossVersion, bigKeyBytes: 1024 }), key).toBeNull();
    }
    await b.hset('cv:hash', 'f1500', 'changed');
    await b.srem('cv:set', 'm7');
    await b.sadd('cv:set', 'other');
    await b.zadd('cv:zset', 99, 'z1200');
    await b.xdel('cv:stream', '17-0');
    await b.xadd('cv:stream', '31-0', 'n', '31');
    await b.lset('cv:list', 2222, 'changed');
    expect(await verdict('cv:hash', crossVersion)).toMatchObject({
      kind: 'value',
      detail: 'fields differ (content digest)',
    });
    expect(await verdict('cv:set', crossVersion)).toMatchObject({
      kind: 'value',
      detail: 'members differ (content digest)',
    });
    expect((await verdict('cv:zset', crossVersion))?.kind).toBe('value');
    expect(await verdict('cv:stream', crossVersion)).toMatchObject({
      kind: 'value',
      detail: 'stream entry 17-0 differs',
    });
    expect(await verdict('cv:list', { ...crossVersion, bigKeyBytes: 1024 })).toMatchObject({
      kind: 'value',
      detail: 'element 2222 differs',
    });
    expect(await verdict('cv:list', { bigKeyBytes: 1024 })).toMatchObject({ source: { length: 2500 } });
  });
});
