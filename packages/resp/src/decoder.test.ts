import { everyByteSplitPoints, randomSplitPoints, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { RespDecoder } from './decoder.js';
import { encodeValue } from './encoder.js';
import { RespProtocolError } from './errors.js';
import type { RespFrame, RespValue } from './types.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const bulk = (s: string | Buffer): RespValue => ({ kind: 'bulk', value: typeof s === 'string' ? b(s) : s });

/** Buffers as hex strings: vitest's deep equality walks typed arrays element by element, too slow for 1 MiB. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const bigPayload = Buffer.alloc(1024 * 1024);
for (let i = 0; i < bigPayload.length; i++) bigPayload[i] = (i * 31 + 7) & 0xff;

interface Case {
  name: string;
  wire: Buffer;
  values: RespValue[];
  /** byteLength of each frame when the wire is not what encodeValue would write */
  lengths?: number[];
}

const cases: Case[] = [
  { name: 'simple string', wire: b('+OK\r\n'), values: [{ kind: 'simple', value: 'OK' }] },
  { name: 'empty simple string', wire: b('+\r\n'), values: [{ kind: 'simple', value: '' }] },
  { name: 'error', wire: b('-ERR wrong\r\n'), values: [{ kind: 'error', value: 'ERR wrong' }] },
  {
    name: 'integer',
    wire: b(':-9223372036854775808\r\n'),
    values: [{ kind: 'integer', value: -(2n ** 63n) }],
  },
  { name: 'bulk', wire: b('$5\r\nhello\r\n'), values: [bulk('hello')] },
  { name: 'empty bulk', wire: b('$0\r\n\r\n'), values: [bulk('')] },
  { name: 'null bulk', wire: b('$-1\r\n'), values: [{ kind: 'bulk', value: null }] },
  {
    name: 'binary bulk with CRLF inside',
    wire: b('$6\r\n\r\n\0\xff\r\n\r\n'),
    values: [bulk('\r\n\0\xff\r\n')],
  },
  { name: 'empty array', wire: b('*0\r\n'), values: [{ kind: 'array', value: [] }] },
  { name: 'null array', wire: b('*-1\r\n'), values: [{ kind: 'array', value: null }] },
  {
    name: 'command array',
    wire: b('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n'),
    values: [{ kind: 'array', value: [bulk('SET'), bulk('k'), bulk('v1')] }],
  },
  {
    name: 'nested arrays with nulls',
    wire: b('*3\r\n*2\r\n:1\r\n*0\r\n$-1\r\n*1\r\n*-1\r\n'),
    values: [
      {
        kind: 'array',
        value: [
          {
            kind: 'array',
            value: [
              { kind: 'integer', value: 1n },
              { kind: 'array', value: [] },
            ],
          },
          { kind: 'bulk', value: null },
          { kind: 'array', value: [{ kind: 'array', value: null }] },
        ],
      },
    ],
  },
  { name: 'resp3 null', wire: b('_\r\n'), values: [{ kind: 'null' }] },
  {
    name: 'resp3 booleans',
    wire: b('#t\r\n#f\r\n'),
    values: [
      { kind: 'boolean', value: true },
      { kind: 'boolean', value: false },
    ],
  },
  {
    name: 'resp3 doubles',
    wire: b(',1.5\r\n,-2e3\r\n,inf\r\n,-inf\r\n,10\r\n'),
    lengths: [6, 7, 6, 7, 5],
    values: [
      { kind: 'double', value: 1.5 },
      { kind: 'double', value: -2000 },
      { kind: 'double', value: Infinity },
      { kind: 'double', value: -Infinity },
      { kind: 'double', value: 10 },
    ],
  },
  {
    name: 'resp3 big number',
    wire: b('(3492890328409238509324850943850943825024385\r\n'),
    values: [{ kind: 'bignum', value: '3492890328409238509324850943850943825024385' }],
  },
  {
    name: 'resp3 blob error',
    wire: b('!9\r\nSYNTAX x\n\r\n'),
    values: [{ kind: 'error', value: 'SYNTAX x\n' }],
    lengths: [15],
  },
  {
    name: 'resp3 verbatim',
    wire: b('=15\r\ntxt:Some string\r\n'),
    values: [{ kind: 'verbatim', format: 'txt', value: b('Some string') }],
  },
  {
    name: 'resp3 map',
    wire: b('%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n~2\r\n#t\r\n_\r\n'),
    values: [
      {
        kind: 'map',
        value: [
          [
            { kind: 'simple', value: 'first' },
            { kind: 'integer', value: 1n },
          ],
          [
            bulk('second'),
            {
              kind: 'set',
              value: [{ kind: 'boolean', value: true }, { kind: 'null' }],
            },
          ],
        ],
      },
    ],
  },
  { name: 'resp3 empty map', wire: b('%0\r\n'), values: [{ kind: 'map', value: [] }] },
  {
    name: 'resp3 push',
    wire: b('>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nhi!\r\n'),
    values: [{ kind: 'push', value: [bulk('message'), bulk('ch'), bulk('hi!')] }],
  },
  {
    name: 'resp3 top-level attribute is its own frame',
    wire: b('|1\r\n+ttl\r\n:3600\r\n:7\r\n'),
    values: [
      {
        kind: 'attribute',
        value: [
          [
            { kind: 'simple', value: 'ttl' },
            { kind: 'integer', value: 3600n },
          ],
        ],
      },
      { kind: 'integer', value: 7n },
    ],
  },
  {
    name: 'resp3 nested attribute is skipped, not counted',
    wire: b('*2\r\n:1\r\n|1\r\n+k\r\n+v\r\n:2\r\n'),
    lengths: [24],
    values: [
      {
        kind: 'array',
        value: [
          { kind: 'integer', value: 1n },
          { kind: 'integer', value: 2n },
        ],
      },
    ],
  },
  {
    name: 'big bulk 1 MiB',
    wire: Buffer.concat([b(`*2\r\n$3\r\nSET\r\n$${bigPayload.length}\r\n`), bigPayload, b('\r\n')]),
    values: [{ kind: 'array', value: [bulk('SET'), bulk(bigPayload)] }],
  },
];

/** One wire segment per value, so expected byteLengths come from the encoding of each case. */
function frameLengths(c: Case): number[] {
  return c.lengths ?? c.values.map((v) => encodeValue(v).length);
}

function decodeWith(wire: Buffer, splits: number[]): RespFrame[] {
  const frames: RespFrame[] = [];
  const decoder = new RespDecoder((f) => frames.push(f));
  let at = 0;
  for (const end of [...splits, wire.length]) {
    decoder.push(wire.subarray(at, end));
    at = end;
  }
  expect(decoder.bufferedBytes).toBe(0);
  return frames;
}

function randomSplits(length: number, seed: number, count: number): number[] {
  return randomSplitPoints(length, seededRandom(seed), count);
}

describe('RespDecoder', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const small = c.wire.length < 4096;
      const lengths = frameLengths(c);
      const check = (frames: RespFrame[]): void => {
        expect(plain(frames.map((f) => f.value))).toEqual(plain(c.values));
        expect(frames.map((f) => f.byteLength)).toEqual(lengths);
      };
      it('as one chunk', () => check(decodeWith(c.wire, [])));
      it('byte by byte', () => {
        // 1 MiB byte by byte is still linear, but keep it to the first and last few KiB of splits
        const splits = small
          ? everyByteSplitPoints(c.wire.length)
          : [...everyByteSplitPoints(3000), ...randomSplits(c.wire.length, 1, 2000)];
        check(
          decodeWith(
            c.wire,
            [...new Set(splits)].sort((x, y) => x - y),
          ),
        );
      });
      it('at random split points', () => {
        for (let seed = 1; seed <= 20; seed++) {
          check(decodeWith(c.wire, randomSplits(c.wire.length, seed, 1 + (seed % 7))));
        }
      });
    });
  }

  it('decodes many frames in one chunk with exact byteLengths, also when re-split', () => {
    const all = Buffer.concat(cases.map((c) => c.wire));
    const expectedValues = cases.flatMap((c) => c.values);
    const expectedTotal = all.length;
    for (const splits of [[], randomSplits(all.length, 42, 50), randomSplits(all.length, 7, 500)]) {
      const frames = decodeWith(all, splits);
      expect(plain(frames.map((f) => f.value))).toEqual(plain(expectedValues));
      expect(frames.reduce((n, f) => n + f.byteLength, 0)).toBe(expectedTotal);
    }
  });

  it('counts a partial frame in bufferedBytes and emits nothing until it completes', () => {
    const frames: RespFrame[] = [];
    const decoder = new RespDecoder((f) => frames.push(f));
    decoder.push(b('*2\r\n$3\r\nGET\r\n$1\r'));
    expect(frames).toHaveLength(0);
    expect(decoder.bufferedBytes).toBe(16);
    decoder.push(b('\nk\r\n+O'));
    expect(frames).toHaveLength(1);
    expect(frames[0].byteLength).toBe(20);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.offset).toBe(20);
  });

  it('reset() from inside onFrame stops delivery of the rest of the chunk', () => {
    const frames: RespFrame[] = [];
    const decoder: RespDecoder = new RespDecoder((f) => {
      frames.push(f);
      decoder.reset();
    });
    decoder.push(b('+a\r\n+b\r\n'));
    expect(frames).toHaveLength(1);
    decoder.push(b('+c\r\n'));
    expect(frames.map((f) => f.value)).toEqual([
      { kind: 'simple', value: 'a' },
      { kind: 'simple', value: 'c' },
    ]);
  });
});

describe('RespDecoder protocol errors', () => {
  const errorCases: Array<{ name: string; wire: string; offset: number; options?: object }> = [
    { name: 'inline command', wire: 'PING\r\n', offset: 0 },
    { name: 'keep-alive newline', wire: '+OK\r\n\n', offset: 5 },
    { name: 'bad digit in length', wire: '*1\r\n$1x\r\n', offset: 6 },
    { name: 'negative bulk length', wire: '$-2\r\n', offset: 1 },
    { name: 'null map', wire: '%-1\r\n', offset: 1 },
    { name: 'CR without LF', wire: '+OK\rX', offset: 4 },
    { name: 'bulk without trailing CRLF', wire: '$2\r\nabXY', offset: 6 },
    { name: 'bulk CR but no LF', wire: '$2\r\nab\rY', offset: 7 },
    { name: 'bad integer', wire: ':12a\r\n', offset: 3 },
    { name: 'bad boolean', wire: '#x\r\n', offset: 1 },
    { name: 'null with payload', wire: '_x\r\n', offset: 1 },
    { name: 'bad double', wire: ',1.2.3\r\n', offset: 1 },
    { name: 'verbatim without format', wire: '=2\r\nab\r\n', offset: 4 },
    { name: 'streamed string', wire: '$?\r\n', offset: 1 },
    { name: 'bulk over maxBulkLength', wire: '$11\r\n', offset: 1, options: { maxBulkLength: 10 } },
    { name: 'array over maxArrayLength', wire: '*4\r\n', offset: 1, options: { maxArrayLength: 3 } },
    { name: 'too deep', wire: '*1\r\n*1\r\n*1\r\n', offset: 8, options: { maxDepth: 2 } },
    { name: 'line too long', wire: '+aaaaaaaaaaaa', offset: 0, options: { maxLineLength: 8 } },
  ];
  for (const c of errorCases) {
    it(`${c.name}: offset ${c.offset}, one chunk and byte by byte`, () => {
      for (const splits of [[], everyByteSplitPoints(c.wire.length)]) {
        const decoder = new RespDecoder(() => {}, c.options);
        const wire = b(c.wire);
        let caught: unknown;
        try {
          let at = 0;
          for (const end of [...splits, wire.length]) {
            decoder.push(wire.subarray(at, end));
            at = end;
          }
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(RespProtocolError);
        expect((caught as RespProtocolError).code).toBe('RESP_PROTOCOL');
        expect((caught as RespProtocolError).offset).toBe(c.offset);
        // poisoned until reset
        expect(() => decoder.push(b('+OK\r\n'))).toThrow(RespProtocolError);
        decoder.reset();
        decoder.push(b('+OK\r\n'));
      }
    });
  }

  it('reports the stream offset of a bad byte that arrives long after the start', () => {
    const decoder = new RespDecoder(() => {});
    const good = b('$3\r\nabc\r\n'.repeat(1000));
    decoder.push(good);
    expect(() => decoder.push(b('$3\r\nabc\r\n?'))).toThrow(
      expect.objectContaining({ offset: good.length + 9 }) as unknown as Error,
    );
  });
});
