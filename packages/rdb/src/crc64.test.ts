import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from './crc64.js';

/** Bit-at-a-time reference (reflected Jones polynomial), independent of the table code under test. */
function reference(bytes: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('crc64', () => {
  it('matches the check value', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });

  it('gives the same value on every alignment and length (word path and byte path)', () => {
    const backing = Buffer.alloc(600);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 131 + 7) & 0xff;
    for (const offset of [0, 1, 3, 4, 7, 8, 13]) {
      for (const length of [0, 1, 7, 8, 63, 64, 65, 71, 200, 517]) {
        const view = backing.subarray(offset, offset + length);
        expect(crc64(view)).toBe(reference(view));
      }
    }
  });

  it('continues across pieces and from a seed like one pass', () => {
    const bytes = Buffer.alloc(1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 73) & 0xff;
    const whole = crc64(bytes);
    const pieces = new Crc64().update(bytes, 0, 333).update(bytes, 333, 901).update(bytes, 901).digest();
    expect(pieces).toBe(whole);
    expect(crc64(bytes.subarray(500), crc64(bytes.subarray(0, 500)))).toBe(whole);
  });
});
