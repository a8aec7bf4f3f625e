import { describe, expect, it } from 'vitest';
import { RdbCorruptError } from '../errors.js';
import { decodeIntset } from './intset.js';
import { decodeListpack } from './listpack.js';
import { decodeZiplist } from './ziplist.js';
import { decodeZipmap } from './zipmap.js';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
const text = (e: Buffer | number): string | number => (typeof e === 'number' ? e : e.toString());

function ziplist(entries: Buffer[], tweak: { zltail?: number; zllen?: number } = {}): Buffer {
  const body = Buffer.concat(entries);
  const header = Buffer.alloc(10);
  header.writeUInt32LE(10 + body.length + 1, 0);
  let tail = 10;
  for (let i = 0; i < entries.length - 1; i++) tail += entries[i].length;
  header.writeUInt32LE(tweak.zltail ?? tail, 4);
  header.writeUInt16LE(tweak.zllen ?? entries.length, 8);
  return Buffer.concat([header, body, b(0xff)]);
}

describe('decodeZiplist', () => {
  // 'a' (3 bytes), int16 -2 (4 bytes), immediate 1, int64 2^60
  const entries = [
    b(0, 0x01, 0x61),
    b(3, 0xc0, 0xfe, 0xff),
    b(4, 0xf2),
    Buffer.concat([b(2, 0xe0), Buffer.alloc(8)]),
  ];
  entries[3].writeBigInt64LE(2n ** 60n, 2);

  it('decodes strings and every integer width exactly', () => {
    expect(decodeZiplist(ziplist(entries), 0).map(text)).toEqual(['a', -2, 1, (2n ** 60n).toString()]);
  });

  it('rejects inconsistent headers and prevlen chains', () => {
    expect(() => decodeZiplist(ziplist(entries, { zllen: 3 }), 7)).toThrow(RdbCorruptError);
    expect(() => decodeZiplist(ziplist(entries, { zltail: 10 }), 7)).toThrow(/zltail/);
    const badPrev = [b(0, 0x01, 0x61), b(9, 0x01, 0x62)];
    expect(() => decodeZiplist(ziplist(badPrev), 7)).toThrow(/prevlen/);
    const overrun = [b(0, 0x3f, 0x61)];
    expect(() => decodeZiplist(ziplist(overrun), 7)).toThrow(/overruns/);
    try {
      decodeZiplist(b(1, 2, 3), 1234);
    } catch (err) {
      expect((err as RdbCorruptError).offset).toBe(1234);
    }
  });
});

describe('decodeListpack', () => {
  function listpack(entries: Buffer[], count = entries.length): Buffer {
    const body = Buffer.concat(entries);
    const header = Buffer.alloc(6);
    header.writeUInt32LE(6 + body.length + 1, 0);
    header.writeUInt16LE(count, 4);
    return Buffer.concat([header, body, b(0xff)]);
  }
  // 7-bit 5, 13-bit -1, 6-bit string 'hi', int16 300, int24 -70000
  const entries = [
    b(5, 1),
    b(0xdf, 0xff, 2),
    b(0x82, 0x68, 0x69, 3),
    b(0xf1, 0x2c, 0x01, 3),
    b(0xf2, 0x90, 0xee, 0xfe, 4),
  ];

  it('decodes every encoding', () => {
    expect(decodeListpack(listpack(entries), 0).map(text)).toEqual([5, -1, 'hi', 300, -70000]);
    expect(decodeListpack(listpack(entries, 0xffff), 0)).toHaveLength(5);
  });

  it('rejects count, back-length and encoding errors', () => {
    expect(() => decodeListpack(listpack(entries, 4), 0)).toThrow(/count/);
    expect(() => decodeListpack(listpack([b(5, 2)]), 0)).toThrow(/back-length/);
    expect(() => decodeListpack(listpack([b(0xf9, 1)]), 0)).toThrow(/encoding/);
    expect(() => decodeListpack(listpack([b(0x85, 0x61, 1)]), 0)).toThrow(/overruns/);
  });
});

describe('decodeIntset', () => {
  it('decodes 16/32/64-bit members and checks the size', () => {
    expect(decodeIntset(b(2, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 1, 0), 0)).toEqual([-1, 1]);
    const i64 = Buffer.concat([b(8, 0, 0, 0, 1, 0, 0, 0), Buffer.alloc(8)]);
    i64.writeBigInt64LE(-(2n ** 63n), 8);
    expect(decodeIntset(i64, 0).map(text)).toEqual(['-9223372036854775808']);
    expect(() => decodeIntset(b(4, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3, 4), 0)).toThrow(RdbCorruptError);
    expect(() => decodeIntset(b(3, 0, 0, 0, 0, 0, 0, 0), 0)).toThrow(/encoding/);
  });
});

describe('decodeZipmap', () => {
  // count 1: field 'f' (len 1), value 'vv' (len 2) with 1 free byte
  const good = b(1, 1, 0x66, 2, 1, 0x76, 0x76, 0x00, 0xff);

  it('decodes pairs and skips free space', () => {
    expect(decodeZipmap(good, 0).map(text)).toEqual(['f', 'vv']);
    const counted = Buffer.from(good);
    counted[0] = 254;
    expect(decodeZipmap(counted, 0)).toHaveLength(2);
  });

  it('rejects a wrong count byte (as Redis does), overruns and empty maps', () => {
    const wrongCount = Buffer.from(good);
    wrongCount[0] = 255;
    expect(() => decodeZipmap(wrongCount, 0)).toThrow(/count/);
    expect(() => decodeZipmap(b(0, 0xff), 0)).toThrow(/empty/);
    expect(() => decodeZipmap(b(1, 9, 0x66, 0xff), 0)).toThrow(/overruns/);
  });
});
