import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RdbParser, type RdbKeyRecord } from '@shardbridge/rdb';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { isEmptyCollection } from './empty-collection.js';
import { importRdbFile, type RdbImportProgress } from './rdb-import.js';
import { RdbImportError } from './rdb-import-errors.js';
import { verifyRdbFile } from './verify-rdb-file.js';

/** A version-10 RDB without checksum (a zero checksum is not verified) holding the given raw key items. */
function rdb(...items: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('REDIS0010'), ...items, Buffer.from([0xff]), Buffer.alloc(8)]);
}
/** A version-4 RDB: no checksum at all. */
const rdb4 = (...items: Buffer[]) => Buffer.concat([Buffer.from('REDIS0004'), ...items, Buffer.from([0xff])]);
const HASH_ZIPLIST = 13;
const str = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);
/** type byte, key, value */
const item = (type: number, key: string, value: Buffer) =>
  Buffer.concat([Buffer.from([type]), str(key), value]);
const EXPIRE_MS = 0xfc;
const expireAt = (ms: number) => {
  const b = Buffer.alloc(9);
  b[0] = EXPIRE_MS;
  b.writeBigUInt64LE(BigInt(ms), 1);
  return b;
};

function records(file: Buffer): RdbKeyRecord[] {
  const out: RdbKeyRecord[] = [];
  const parser = new RdbParser({ onKey: (r) => out.push(r) }, { decode: false });
  parser.push(file);
  parser.end();
  return out;
}

describe('isEmptyCollection', () => {
  it('is true only for a collection without elements', () => {
    const [emptyList, list, emptySet, text] = records(
      rdb(
        item(1, 'empty-list', Buffer.from([0])),
        item(1, 'list', Buffer.concat([Buffer.from([1]), str('a')])),
        item(2, 'empty-set', Buffer.from([0])),
        item(0, 'string', str('')),
      ),
    );
    const now = Date.now();
    expect(isEmptyCollection(emptyList, now)).toBe(true);
    expect(isEmptyCollection(list, now)).toBe(false);
    expect(isEmptyCollection(emptySet, now)).toBe(true);
    expect(isEmptyCollection(text, now)).toBe(false);
  });
});

describe('importRdbFile', () => {
  let target: RedisServer;
  let dir: string;

  beforeAll(async () => {
    [target, dir] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), 'rdb-import-'))]);
  });
  afterAll(async () => {
    await Promise.all([target?.stop(), rm(dir, { recursive: true, force: true })]);
  });

  it('restores live keys, skips expired and empty ones, and reports progress until done', async () => {
    const file = join(dir, 'mixed.rdb');
    const future = Date.UTC(2100, 0, 1);
    await writeFile(
      file,
      rdb(
        item(0, 'plain', str('v')),
        expireAt(future),
        item(0, 'later', str('v')),
        expireAt(1000),
        item(0, 'gone', str('v')),
        item(1, 'empty', Buffer.from([0])),
        item(1, 'list', Buffer.concat([Buffer.from([2]), str('a'), str('b')])),
      ),
    );
    const reports: RdbImportProgress[] = [];
    const result = await importRdbFile({
      path: file,
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      progressIntervalMs: 1,
      onProgress: (p) => reports.push(p),
    });
    expect(result).toMatchObject({
      rdbVersion: 10,
      keysRestored: 3,
      keysExpired: 1,
      keysEmpty: 1,
      done: true,
    });
    expect(result.bytesDone).toBe(result.bytesTotal);
    expect(reports.at(-1)).toEqual(result);
    const client = target.client();
    expect((await client.keys('*')).sort()).toEqual(['later', 'list', 'plain']);
    expect(await client.pexpiretime('later')).toBe(future);
    expect(await client.lrange('list', 0, -1)).toEqual(['a', 'b']);
  });
});

describe('the check pass before any write', () => {
  let target: RedisServer;
  let dir: string;
  const seeds = () => [{ host: target.host, port: target.port }];

  beforeAll(async () => {
    [target, dir] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), 'rdb-check-'))]);
  });
  afterAll(async () => {
    await Promise.all([target?.stop(), rm(dir, { recursive: true, force: true })]);
  });

  it('tells a verified CRC from a file saved without one and a version without one', async () => {
    const client = target.client();
    await client.set('k', 'v');
    await client.save();
    const saved = join(target.dir, 'dump.rdb');
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(saved));
    expect(await verifyRdbFile(saved, { bytesTotal: size })).toMatchObject({
      rdbVersion: 10,
      checksum: 'verified',
      valuesDecoded: false,
      keys: 1,
    });
    const zero = join(dir, 'zero.rdb');
    const zeroBytes = rdb(item(0, 'a', str('v')));
    await writeFile(zero, zeroBytes);
    expect(await verifyRdbFile(zero, { bytesTotal: zeroBytes.length })).toMatchObject({
      checksum: 'disabled',
      valuesDecoded: true,
      keys: 1,
    });
    const old = join(dir, 'v4.rdb');
    const oldBytes = rdb4(item(0, 'a', str('v')));
    await writeFile(old, oldBytes);
    expect(await verifyRdbFile(old, { bytesTotal: oldBytes.length })).toMatchObject({
      rdbVersion: 4,
      checksum: 'absent',
      valuesDecoded: true,
    });
  });

  it('a damaged value in a file without checksum is found by decoding it, before the keys ahead of it are written', async () => {
    await target.client().flushall();
    const file = join(dir, 'bad-ziplist.rdb');
    // 'plain' is fine; the hash's ziplist blob is 5 bytes, shorter than a ziplist header
    const bytes = rdb(item(0, 'plain', str('v')), item(HASH_ZIPLIST, 'hash', str('abcde')));
    await writeFile(file, bytes);
    const error = await importRdbFile({ path: file, target: { type: 'standalone', seeds: seeds() } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RdbImportError);
    expect((error as RdbImportError).code).toBe('RDB_CORRUPT');
    // an offset inside the hash item of this file (the 'plain' item ends at byte 18), not of a one-key copy
    expect((error as RdbImportError).message).toMatch(
      /at byte offset 2\d\).*nothing was written to the target$/,
    );
    expect(await target.client().dbsize()).toBe(0);
  });
});
