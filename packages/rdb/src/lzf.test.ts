import { describe, expect, it } from 'vitest';
import { LzfError, lzfDecompress } from './lzf.js';

describe('lzfDecompress', () => {
  it('decodes literal runs', () => {
    expect(lzfDecompress(Buffer.from([2, 0x61, 0x62, 0x63]), 3).toString()).toBe('abc');
  });

  it('decodes short and long overlapping back references', () => {
    // 'a', then a 9-byte reference at distance 1 (extended length form)
    expect(lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x00, 0x00]), 10).toString()).toBe('a'.repeat(10));
    // 'ab', then a 4-byte reference at distance 2 (short form: len-2 = 2)
    expect(lzfDecompress(Buffer.from([0x01, 0x61, 0x62, 0x40, 0x01]), 6).toString()).toBe('ababab');
  });

  it('rejects malformed blocks instead of reading or writing out of bounds', () => {
    expect(() => lzfDecompress(Buffer.from([5, 0x61]), 6)).toThrow(LzfError); // literal past input
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0x40, 0x05]), 5)).toThrow(LzfError); // ref before start
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x00, 0x00]), 5)).toThrow(LzfError); // overrun
    expect(() => lzfDecompress(Buffer.from([2, 0x61, 0x62, 0x63]), 4)).toThrow(LzfError); // short output
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0x40]), 4)).toThrow(LzfError); // truncated ref
  });
});
