import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from './crc64.js';

/** Bit-at-a-time reference straight from the definition (reflected Jones polynomial). */
function referenceCrc64(buf: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of buf) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('crc64', () => {
  it('matches the Redis check value', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });

  it('is 0 for empty input', () => {
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });

  it('matches a bitwise reference for every length 0..40', () => {
    const data = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let n = 0; n <= data.length; n++) {
      expect(crc64(data.subarray(0, n))).toBe(referenceCrc64(data.subarray(0, n)));
    }
  });

  it('continues from a seed and incrementally, equal to one pass', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 131) & 0xff));
    const whole = crc64(data);
    expect(crc64(data.subarray(333), crc64(data.subarray(0, 333)))).toBe(whole);
    const c = new Crc64();
    for (let at = 0; at < data.length; at += 7) c.update(data, at, Math.min(at + 7, data.length));
    expect(c.digest()).toBe(whole);
    const out = Buffer.alloc(8);
    c.writeLE(out, 0);
    expect(out.readBigUInt64LE(0)).toBe(whole);
  });

  it('matches the reference on every alignment of the word path (64 bytes and more)', () => {
    const backing = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 131 + 7) & 0xff));
    for (const offset of [0, 1, 3, 4, 7, 8, 13]) {
      for (const length of [63, 64, 65, 71, 200, 517]) {
        const view = backing.subarray(offset, offset + length);
        expect(crc64(view)).toBe(referenceCrc64(view));
        expect(new Crc64().update(backing, offset, offset + length).digest()).toBe(referenceCrc64(view));
      }
    }
  });
});
