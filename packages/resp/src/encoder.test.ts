import { describe, expect, it } from 'vitest';
import { RespDecoder } from './decoder.js';
import { encodeCommand, encodeValue } from './encoder.js';
import { RespEncodeError } from './errors.js';
import type { RespValue } from './types.js';

function decodeOne(wire: Buffer): RespValue {
  const values: RespValue[] = [];
  new RespDecoder((f) => {
    expect(f.byteLength).toBe(wire.length);
    values.push(f.value);
  }).push(wire);
  expect(values).toHaveLength(1);
  return values[0];
}

describe('encodeCommand', () => {
  it('writes a RESP2 array of bulk strings from buffers, strings and numbers', () => {
    const wire = encodeCommand(['REPLCONF', 'ACK', 1234, Buffer.from([0, 13, 10, 255])]);
    expect(wire.toString('latin1')).toBe(
      '*4\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$4\r\n1234\r\n$4\r\n\0\r\n\xff\r\n',
    );
  });

  it('writes strings as UTF-8 with their byte length', () => {
    expect(encodeCommand(['é']).toString('latin1')).toBe('*1\r\n$2\r\n\xc3\xa9\r\n');
  });
});

describe('encodeValue', () => {
  const values: RespValue[] = [
    { kind: 'simple', value: 'OK' },
    { kind: 'error', value: 'ERR x' },
    { kind: 'integer', value: 12345678901234567890n },
    { kind: 'bulk', value: Buffer.from('a\r\nb') },
    { kind: 'bulk', value: null },
    { kind: 'array', value: null },
    {
      kind: 'array',
      value: [
        { kind: 'bulk', value: Buffer.from('x') },
        { kind: 'array', value: [] },
      ],
    },
    { kind: 'null' },
    { kind: 'boolean', value: false },
    { kind: 'double', value: -0.25 },
    { kind: 'double', value: Infinity },
    { kind: 'bignum', value: '-123456789012345678901234567890' },
    { kind: 'verbatim', format: 'mkd', value: Buffer.from('# hi') },
    {
      kind: 'map',
      value: [
        [
          { kind: 'simple', value: 'k' },
          { kind: 'set', value: [{ kind: 'null' }] },
        ],
      ],
    },
    { kind: 'push', value: [{ kind: 'bulk', value: Buffer.from('pong') }] },
    {
      kind: 'attribute',
      value: [
        [
          { kind: 'simple', value: 'a' },
          { kind: 'integer', value: 1n },
        ],
      ],
    },
  ];
  for (const value of values) {
    it(`round-trips ${value.kind} through the decoder`, () => {
      expect(decodeOne(encodeValue(value))).toEqual(value);
    });
  }

  it('round-trips NaN', () => {
    const v = decodeOne(encodeValue({ kind: 'double', value: NaN }));
    expect(v.kind === 'double' && Number.isNaN(v.value)).toBe(true);
  });

  it('refuses CR/LF inside a simple string', () => {
    expect(() => encodeValue({ kind: 'simple', value: 'a\r\nb' })).toThrow(RespEncodeError);
  });
});
