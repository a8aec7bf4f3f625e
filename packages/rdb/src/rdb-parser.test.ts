import { byteByByte, randomChunks, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { crc64 } from './crc64.js';
import { RdbError } from './errors.js';
import { RdbParser, type RdbParserOptions } from './rdb-parser.js';
import type { RdbHandlers, RdbKeyRecord } from './types.js';

/* ---- tiny RDB writer for hand-made files (facts from Redis's rdb.c / listpack.c) ---- */

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

function len(n: number): Buffer {
  if (n < 64) return b(n);
  if (n < 16384) return b(0x40 | (n >> 8), n & 0xff);
  const out = Buffer.alloc(5);
  out[0] = 0x80;
  out.writeUInt32BE(n, 1);
  return out;
}
const str = (s: string | Buffer): Buffer => {
  const raw = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return cat(len(raw.length), raw);
};
const u64le = (n: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(n));
  return out;
};
const f64le = (n: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeDoubleLE(n);
  return out;
};

/** A listpack of short strings and 7-bit integers. */
function listpack(items: Array<string | number>): Buffer {
  const entries = items.map((it) => {
    const enc = typeof it === 'number' ? b(it) : cat(b(0x80 | Buffer.byteLength(it)), Buffer.from(it));
    return cat(enc, b(enc.length));
  });
  const body = cat(...entries);
  const header = Buffer.alloc(6);
  header.writeUInt32LE(6 + body.length + 1, 0);
  header.writeUInt16LE(items.length, 4);
  return cat(header, body, b(0xff));
}

function rdbFile(version: number, items: Buffer[], checksum: 'ok' | 'zero' | 'bad' = 'ok'): Buffer {
  const body = cat(Buffer.from(`REDIS${String(version).padStart(4, '0')}`), ...items, b(0xff));
  if (version < 5) return body;
  const trailer = Buffer.alloc(8);
  if (checksum === 'ok') trailer.writeBigUInt64LE(crc64(body));
  if (checksum === 'bad') trailer.writeBigUInt64LE(crc64(body) ^ 1n);
  return cat(body, trailer);
}

/* ---- feeding helpers ---- */

type Mode = 'whole' | 'byte-by-byte' | 'random';
const MODES: Mode[] = ['whole', 'byte-by-byte', 'random'];

interface Outcome {
  keys: RdbKeyRecord[];
  events: string[];
  error?: unknown;
  parser: RdbParser;
}

function feed(buf: Buffer, mode: Mode, options?: RdbParserOptions, extra?: Partial<RdbHandlers>): Outcome {
  const keys: RdbKeyRecord[] = [];
  const events: string[] = [];
  const parser = new RdbParser(
    {
      onHeader: (v) => events.push(`header ${v}`),
      onAux: (k, v) => events.push(`aux ${k} ${v}`),
      onSelectDb: (db) => events.push(`select ${db}`),
      onResizeDb: (a, c) => events.push(`resize ${a} ${c}`),
      onFunction: (code) => events.push(`function ${code}`),
      onModuleAux: (id) => events.push(`module-aux ${id}`),
      onSlotInfo: (slot, size, expires) => events.push(`slot ${slot} ${size} ${expires}`),
      onEnd: (info) => events.push(`end ${info.bytes}`),
      onKey: (k) => keys.push(k),
      ...extra,
    },
    options,
  );
  try {
    const chunks =
      mode === 'whole'
        ? [buf]
        : mode === 'byte-by-byte'
          ? byteByByte(buf)
          : randomChunks(buf, seededRandom(buf.length), 13);
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
    return { keys, events, parser };
  } catch (error) {
    return { keys, events, error, parser };
  }
}

function expectRdbError(outcome: Outcome, code: string, offset?: number): RdbError {
  expect(outcome.error).toBeInstanceOf(RdbError);
  const err = outcome.error as RdbError;
  expect(err.code).toBe(code);
  if (offset !== undefined) expect(err.offset).toBe(offset);
  expect(err.message).toContain(`offset ${err.offset}`);
  return err;
}

/* ---- fixtures ---- */

const lzfTen = cat(b(0xc3), len(5), len(10), b(0x00, 0x61, 0xe0, 0x00, 0x00)); // 'a' x 10

const typesFile = rdbFile(12, [
  cat(b(250), str('redis-ver'), str('7.4.1')),
  cat(b(245), str('#!lua name=lib\nreturn 1')),
  cat(b(254), len(3), b(251), len(20), len(2)),
  cat(b(244), len(1234), len(5), len(1)),
  cat(b(0), str('s:raw'), str('hello')),
  cat(b(0), str('s:int8'), b(0xc0, 0xfe)),
  cat(b(0), str('s:int16'), b(0xc1, 0x39, 0x30)),
  cat(b(0), str('s:int32'), b(0xc2, 0x00, 0x00, 0x00, 0x80)),
  cat(b(252), u64le(4102444800000), b(0), str('s:lzf'), lzfTen),
  cat(b(253), b(0x00, 0x00, 0x00, 0x80), b(0), str('s:expire-seconds'), str('x')),
  cat(b(248), len(77), b(249), b(9), b(1), str('list'), len(2), str('a'), str('b')),
  cat(b(2), str('set'), len(2), str('m1'), str('m2')),
  cat(b(3), str('zset1'), len(3), str('a'), b(3), Buffer.from('1.5'), str('b'), b(254), str('c'), b(255)),
  cat(b(5), str('zset2'), len(2), str('a'), f64le(-0), str('b'), f64le(2.25)),
  cat(b(4), str('hash'), len(1), str('f'), str('v')),
  cat(b(16), str('hash:lp'), str(listpack(['f1', 'v1', 'f2', 7]))),
  cat(b(17), str('zset:lp'), str(listpack(['m', 3]))),
  cat(b(20), str('set:lp'), str(listpack(['x', 5]))),
  cat(b(11), str('intset'), str(cat(b(2, 0, 0, 0), b(2, 0, 0, 0), b(0xff, 0xff), b(0x10, 0x00)))),
  cat(b(18), str('qlist2'), len(2), len(2), str(listpack(['p1', 2])), len(1), str('plain-element')),
  cat(b(24), str('hash:meta'), u64le(1000), len(2), len(0), str('a'), str('1'), len(6), str('b'), str('2')),
  cat(b(25), str('hash:lpex'), u64le(1000), str(listpack(['x', '1', 0, 'y', '2', 100]))),
  cat(
    b(247),
    b(0x81, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0x01),
    len(2),
    len(2),
    cat(len(2), len(7), len(5), str('aux-string'), len(4), f64le(1.5), len(3), b(0, 0, 0x80, 0x3f), len(0)),
  ),
  cat(b(7), str('module:key'), b(0x81, 0, 0, 0, 0, 0, 0, 0x04, 0x01), len(1), len(9), len(0)),
]);

describe('RdbParser on a hand-made file with every common type and opcode', () => {
  const reference = feed(typesFile, 'whole');

  it('parses without error and reports opcodes in file order', () => {
    expect(reference.error).toBeUndefined();
    expect(reference.events).toEqual([
      'header 12',
      'aux redis-ver 7.4.1',
      'function #!lua name=lib\nreturn 1',
      'select 3',
      'resize 20 2',
      'slot 1234 5 1',
      `module-aux ${0x123456789abcde01n}`,
      `end ${typesFile.length}`,
    ]);
    expect(reference.parser.bytesConsumed).toBe(typesFile.length);
  });

  it('decodes values, expiries, idle and freq', () => {
    const byKey = new Map(reference.keys.map((k) => [k.key.toString(), k]));
    const val = (k: string) => byKey.get(k)?.value;
    const strs = (bufs: Buffer[]) => bufs.map((x) => x.toString());
    expect(reference.keys.every((k) => k.db === 3 && k.rdbVersion === 12)).toBe(true);
    expect(val('s:raw')).toEqual({ type: 'string', value: Buffer.from('hello') });
    expect(val('s:int8')).toEqual({ type: 'string', value: Buffer.from('-2') });
    expect(val('s:int16')).toEqual({ type: 'string', value: Buffer.from('12345') });
    expect(val('s:int32')).toEqual({ type: 'string', value: Buffer.from('-2147483648') });
    expect(val('s:lzf')).toEqual({ type: 'string', value: Buffer.from('a'.repeat(10)) });
    expect(byKey.get('s:lzf')?.expireAt).toBe(4102444800000);
    expect(byKey.get('s:expire-seconds')?.expireAt).toBe(-2147483648000);
    expect(byKey.get('s:raw')?.expireAt).toBeNull();
    expect(byKey.get('list')).toMatchObject({ idle: 77, freq: 9 });
    expect(byKey.get('set')).toMatchObject({ idle: null, freq: null });
    expect(strs((val('list') as { value: Buffer[] }).value)).toEqual(['a', 'b']);
    expect(strs((val('set') as { value: Buffer[] }).value)).toEqual(['m1', 'm2']);
    const zset = (k: string) =>
      (val(k) as { value: Array<{ member: Buffer; score: number }> }).value.map((m) => [
        m.member.toString(),
        m.score,
      ]);
    expect(zset('zset1')).toEqual([
      ['a', 1.5],
      ['b', Infinity],
      ['c', -Infinity],
    ]);
    expect(Object.is(zset('zset2')[0][1], -0)).toBe(true);
    expect(zset('zset:lp')).toEqual([['m', 3]]);
    const hash = (k: string) =>
      (val(k) as { value: Array<{ field: Buffer; value: Buffer; expireAt: number | null }> }).value.map(
        (f) => [f.field.toString(), f.value.toString(), f.expireAt],
      );
    expect(hash('hash')).toEqual([['f', 'v', null]]);
    expect(hash('hash:lp')).toEqual([
      ['f1', 'v1', null],
      ['f2', '7', null],
    ]);
    expect(hash('hash:meta')).toEqual([
      ['a', '1', null],
      ['b', '2', 1005],
    ]);
    expect(hash('hash:lpex')).toEqual([
      ['x', '1', null],
      ['y', '2', 100],
    ]);
    expect(strs((val('set:lp') as { value: Buffer[] }).value)).toEqual(['x', '5']);
    expect(strs((val('intset') as { value: Buffer[] }).value)).toEqual(['-1', '16']);
    expect(strs((val('qlist2') as { value: Buffer[] }).value)).toEqual(['p1', '2', 'plain-element']);
    expect(val('module:key')).toEqual({ type: 'module', moduleId: 0x0401n, value: null });
  });

  it('builds DUMP-style restore payloads: type, value bytes, version LE, CRC64 LE', () => {
    const rec = reference.keys.find((k) => k.key.toString() === 's:raw')!;
    const p = rec.restorePayload;
    expect(p.subarray(0, p.length - 10)).toEqual(cat(b(0), str('hello')));
    expect(p.readUInt16LE(p.length - 10)).toBe(12);
    expect(p.readBigUInt64LE(p.length - 8)).toBe(crc64(p.subarray(0, p.length - 8)));
    for (const k of reference.keys) {
      const q = k.restorePayload;
      expect(q.readBigUInt64LE(q.length - 8)).toBe(crc64(q.subarray(0, q.length - 8)));
    }
  });

  for (const mode of MODES) {
    it(`gives identical results fed ${mode}`, () => {
      const got = feed(typesFile, mode);
      expect(got.error).toBeUndefined();
      expect(got.events).toEqual(reference.events);
      expect(got.keys.map((k) => [k.key, k.value, k.expireAt, k.restorePayload])).toEqual(
        reference.keys.map((k) => [k.key, k.value, k.expireAt, k.restorePayload]),
      );
    });
  }

  it('with decode: false omits values but produces the same payloads', () => {
    const got = feed(typesFile, 'random', { decode: false });
    expect(got.error).toBeUndefined();
    expect(got.keys.every((k) => k.value === undefined)).toBe(true);
    expect(got.keys.map((k) => k.restorePayload)).toEqual(reference.keys.map((k) => k.restorePayload));
  });

  it('ignores and does not count bytes after EOF', () => {
    const got = feed(cat(typesFile, Buffer.from('+FULLRESYNC trailing bytes')), 'random');
    expect(got.error).toBeUndefined();
    expect(got.parser.bytesConsumed).toBe(typesFile.length);
    expect(got.parser.finished).toBe(true);
  });
});

describe('RdbParser errors', () => {
  for (const mode of MODES) {
    describe(`fed ${mode}`, () => {
      it('RDB_BAD_MAGIC for a non-RDB file', () => {
        const err = expectRdbError(feed(Buffer.from('HELLO0009\xff'), mode), 'RDB_BAD_MAGIC', 0);
        expect(err.message).toContain('expected "REDIS"');
        expectRdbError(feed(Buffer.from('REDIS00x9\xff'), mode), 'RDB_BAD_MAGIC', 5);
      });

      it('RDB_UNSUPPORTED_VERSION names the version and the highest known', () => {
        const err = expectRdbError(feed(rdbFile(13, []), mode), 'RDB_UNSUPPORTED_VERSION', 5);
        expect(err.message).toMatch(/version 13.*1\.\.12/);
        expectRdbError(feed(rdbFile(0, []), mode), 'RDB_UNSUPPORTED_VERSION');
      });

      it('RDB_CHECKSUM_MISMATCH unless disabled by option or by a zero checksum', () => {
        const items = [cat(b(0), str('k'), str('v'))];
        const file = rdbFile(9, items, 'bad');
        expectRdbError(feed(file, mode), 'RDB_CHECKSUM_MISMATCH', file.length - 8);
        expect(feed(file, mode, { verifyChecksum: false }).error).toBeUndefined();
        expect(feed(rdbFile(9, items, 'zero'), mode).error).toBeUndefined();
      });

      it('RDB_TRUNCATED at the end of the input, for every cut', () => {
        for (let cut = 0; cut < typesFile.length; cut += mode === 'whole' ? 1 : 97) {
          expectRdbError(feed(typesFile.subarray(0, cut), mode), 'RDB_TRUNCATED', cut);
        }
      });

      it('RDB_UNKNOWN_TYPE and RDB_UNKNOWN_OPCODE name the byte and its offset', () => {
        const t = expectRdbError(
          feed(rdbFile(9, [cat(b(0), str('k'), str('v')), b(30)]), mode),
          'RDB_UNKNOWN_TYPE',
          14,
        );
        expect(t.message).toContain('30');
        expectRdbError(feed(rdbFile(9, [b(8), str('k')]), mode), 'RDB_UNKNOWN_TYPE', 9);
        const o = expectRdbError(feed(rdbFile(9, [b(241)]), mode), 'RDB_UNKNOWN_OPCODE', 9);
        expect(o.message).toContain('241');
      });

      it('RDB_CORRUPT for broken packed encodings, never a hang', () => {
        const lp = listpack(['a', 'b']);
        const badCount = Buffer.from(lp);
        badCount.writeUInt16LE(3, 4);
        expectRdbError(feed(rdbFile(11, [cat(b(16), str('h'), str(badCount))]), mode), 'RDB_CORRUPT');
        const badTotal = Buffer.from(lp);
        badTotal.writeUInt32LE(1000, 0);
        expectRdbError(feed(rdbFile(11, [cat(b(20), str('s'), str(badTotal))]), mode), 'RDB_CORRUPT');
        expectRdbError(
          feed(rdbFile(11, [cat(b(16), str('h'), str(listpack(['odd'])))]), mode),
          'RDB_CORRUPT',
        );
        expectRdbError(feed(rdbFile(11, [cat(b(10), str('l'), str('xxxxx'))]), mode), 'RDB_CORRUPT');
        expectRdbError(
          feed(rdbFile(11, [cat(b(11), str('i'), str(b(3, 0, 0, 0, 0, 0, 0, 0)))]), mode),
          'RDB_CORRUPT',
        );
        expectRdbError(
          feed(rdbFile(11, [cat(b(18), str('q'), len(1), len(7), str('x'))]), mode),
          'RDB_CORRUPT',
        );
        // LZF string claiming 1 GB from 5 bytes: refused before allocating
        const lzfBomb = cat(b(0xc3), len(5), len(1 << 30), b(0x00, 0x61, 0xe0, 0x00, 0x00));
        expectRdbError(feed(rdbFile(11, [cat(b(0), str('k'), lzfBomb)]), mode), 'RDB_CORRUPT');
        expectRdbError(feed(rdbFile(11, [cat(b(0), str('k'), b(0xc7))]), mode), 'RDB_CORRUPT');
      });

      it('RDB_UNSUPPORTED_FEATURE for pre-GA module values', () => {
        expectRdbError(feed(rdbFile(9, [cat(b(6), str('k'), len(1))]), mode), 'RDB_UNSUPPORTED_FEATURE', 9);
      });
    });
  }

  it('stays failed: later push/end rethrow the first error', () => {
    const parser = new RdbParser({ onKey: () => {} });
    expect(() => parser.push(Buffer.from('NOPE!0001'))).toThrow(RdbError);
    expect(() => parser.push(Buffer.from('more'))).toThrow(/REDIS/);
    expect(() => parser.end()).toThrow(/REDIS/);
  });

  it('reads RDB < 5 files, which have no checksum', () => {
    const got = feed(rdbFile(3, [cat(b(0), str('k'), str('v'))]), 'byte-by-byte');
    expect(got.error).toBeUndefined();
    expect(got.keys[0].value).toEqual({ type: 'string', value: Buffer.from('v') });
  });

  it('converts the 7.0-rc function format (opcode 246) to a shebang library', () => {
    const got = feed(
      rdbFile(10, [cat(b(246), str('mylib'), str('LUA'), len(1), str('desc'), str('return 1'))]),
      'whole',
    );
    expect(got.events).toContain('function #!LUA name=mylib \nreturn 1');
  });
});

describe('RdbParser retry policy', () => {
  // One ~300 KB hash of small fields: parsed by repeated attempts, doubling the buffered size.
  const fields: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) fields.push(str(`field-${i}`), str(`value-${i}`));
  const file = rdbFile(9, [cat(b(4), str('big'), len(20_000), ...fields)]);

  function pushInChunks(parser: RdbParser): void {
    for (let at = 0; at < file.length; at += 1000) parser.push(file.subarray(at, at + 1000));
  }

  it('reports a large last key once the final byte arrives when expectedSize is known', () => {
    const keys: RdbKeyRecord[] = [];
    const parser = new RdbParser({ onKey: (k) => keys.push(k) }, { expectedSize: file.length });
    pushInChunks(parser);
    expect(parser.finished).toBe(true);
    expect(keys).toHaveLength(1);
    expect(parser.bytesConsumed).toBe(file.length);
  });

  it('without expectedSize still delivers everything by end()', () => {
    const keys: RdbKeyRecord[] = [];
    const parser = new RdbParser({ onKey: (k) => keys.push(k) });
    pushInChunks(parser);
    parser.end();
    expect(parser.finished).toBe(true);
    expect((keys[0].value as { value: unknown[] }).value).toHaveLength(20_000);
  });
});

describe('RdbParser pause and resume', () => {
  // Small keys in one chunk: without a pause, one push hands all of them over.
  const file = rdbFile(
    9,
    Array.from({ length: 50 }, (_, i) => cat(b(0), str(`key-${i}`), str(`value-${i}`))),
  );

  it('a pause from a handler stops after the current key; pushes only buffer; resume hands the rest over', () => {
    const keys: string[] = [];
    const parser = new RdbParser({
      onKey: (k) => {
        keys.push(k.key.toString());
        if (keys.length % 10 === 0) parser.pause();
      },
    });
    parser.push(file.subarray(0, file.length - 5));
    expect(keys).toHaveLength(10);
    expect(parser.isPaused).toBe(true);
    parser.push(file.subarray(file.length - 5));
    expect(keys).toHaveLength(10);
    const resumes = [];
    while (parser.isPaused) {
      parser.resume();
      resumes.push(keys.length);
    }
    // the 50th key pauses too, before the EOF opcode: one more resume reads it
    expect(resumes).toEqual([20, 30, 40, 50, 50]);
    expect(parser.finished).toBe(true);
    expect(keys).toEqual(Array.from({ length: 50 }, (_, i) => `key-${i}`));
  });

  it('end() parses everything buffered, even while paused and even if handlers pause again', () => {
    const keys: string[] = [];
    const parser = new RdbParser({
      onKey: (k) => {
        keys.push(k.key.toString());
        parser.pause();
      },
    });
    for (const chunk of randomChunks(file, seededRandom(5), 64)) parser.push(chunk);
    expect(keys.length).toBeLessThan(50);
    parser.end();
    expect(parser.finished).toBe(true);
    expect(keys).toHaveLength(50);
  });
});
