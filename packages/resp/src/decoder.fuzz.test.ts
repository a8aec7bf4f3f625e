import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RespDecoder, type RespDecoderOptions } from './decoder.js';
import { encodeValue } from './encoder.js';
import { RespProtocolError } from './errors.js';
import type { RespFrame, RespValue } from './types.js';

/*
 * Property tests (fast-check) of the streaming decoder: any split of a valid stream decodes like one chunk, and
 * damaged input ends in frames or a RespProtocolError, never another exception, a hang or an allocation sized by
 * a length header. fast-check prints the seed and path of a failing run; replay with `{ seed, path }` in PARAMS.
 */

/**
 * Few enough runs for a loaded 2-core box (each property takes a few seconds at most); SB_FUZZ_RUNS asks for more
 * in a deeper, unhurried run.
 */
const PARAMS = { numRuns: Number(process.env.SB_FUZZ_RUNS ?? 1000) };
/** Wall-clock bound per decoded input: only a hang (or a quadratic blow-up) can reach it. */
const TIME_BOUND_MS = 5_000;

const line = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const latin1Line = fc
  .uint8Array({ maxLength: 20 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'))
  .filter((s) => !/[\r\n]/.test(s));
const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

/** Values whose wire form decodes back to an equal value (no attributes: nested ones are skipped by design). */
const { value: respValue } = fc.letrec<{ value: RespValue }>((tie) => {
  const child = tie('value');
  const items = fc.array(child, { maxLength: 4 });
  return {
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      line.map((value): RespValue => ({ kind: 'simple', value })),
      latin1Line.map((value): RespValue => ({ kind: 'error', value })),
      fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((value): RespValue => ({ kind: 'integer', value })),
      fc.option(bytes, { nil: null }).map((value): RespValue => ({ kind: 'bulk', value })),
      fc.constant<RespValue>({ kind: 'null' }),
      fc.boolean().map((value): RespValue => ({ kind: 'boolean', value })),
      // -0 is written "0": it cannot survive the round trip.
      fc.double().map((d): RespValue => ({ kind: 'double', value: Object.is(d, -0) ? 0 : d })),
      fc.bigInt().map((n): RespValue => ({ kind: 'bignum', value: n.toString() })),
      fc
        .tuple(fc.string({ minLength: 3, maxLength: 3, unit: 'grapheme-ascii' }), bytes)
        .map(([format, value]): RespValue => ({ kind: 'verbatim', format, value })),
      fc.option(items, { nil: null }).map((value): RespValue => ({ kind: 'array', value })),
      items.map((value): RespValue => ({ kind: 'set', value })),
      items.map((value): RespValue => ({ kind: 'push', value })),
      fc.array(fc.tuple(child, child), { maxLength: 3 }).map((value): RespValue => ({ kind: 'map', value })),
    ),
  };
});

/** Buffers as hex: deep equality on plain data, with a readable diff. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

interface Outcome {
  frames: RespFrame[];
  /** the error's code and offset, or null when every chunk was accepted */
  error: { code: string; offset: number } | null;
  offset: number;
  bufferedBytes: number;
}

/** Feeds `wire` cut at `cuts` (sorted, deduplicated indexes) and records what came out. */
function decode(wire: Buffer, cuts: number[], options?: RespDecoderOptions): Outcome {
  const frames: RespFrame[] = [];
  const decoder = new RespDecoder((frame) => frames.push(frame), options);
  const started = Date.now();
  let error: Outcome['error'] = null;
  let from = 0;
  try {
    for (const cut of [...cuts, wire.length]) {
      decoder.push(wire.subarray(from, cut));
      from = cut;
    }
  } catch (err) {
    // Anything but the decoder's own coded error fails the property as it propagates.
    if (!(err instanceof RespProtocolError)) throw err;
    expect(err.code).toBe('RESP_PROTOCOL');
    error = { code: err.code, offset: err.offset };
  }
  expect(Date.now() - started).toBeLessThan(TIME_BOUND_MS);
  // After an error the rest of the input was never pushed, so only a clean run's buffered count is comparable.
  return { frames, error, offset: decoder.offset, bufferedBytes: error ? -1 : decoder.bufferedBytes };
}

const splitPoints = (length: number) =>
  fc
    .array(fc.integer({ min: 0, max: Math.max(0, length) }), { maxLength: 12 })
    .map((points) => [...new Set(points)].sort((a, b) => a - b));

/** A stream of a few frames with a set of split points inside it. */
const streamWithSplits = fc
  .array(respValue, { minLength: 1, maxLength: 6 })
  .map((values) => ({ values, wire: Buffer.concat(values.map(encodeValue)) }))
  .chain((stream) => fc.tuple(fc.constant(stream), splitPoints(stream.wire.length)));

/** Overwrites, inserts or deletes a few bytes, or truncates. */
const damage = (wire: Buffer) =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.nat({ max: wire.length - 1 }), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((flips) => {
        const out = Buffer.from(wire);
        for (const [at, xor] of flips) out[at] ^= xor;
        return out;
      }),
    fc
      .tuple(fc.nat({ max: wire.length }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, extra]) => Buffer.concat([wire.subarray(0, at), extra, wire.subarray(at)])),
    fc
      .tuple(fc.nat({ max: wire.length - 1 }), fc.integer({ min: 1, max: 8 }))
      .map(([at, n]) => Buffer.concat([wire.subarray(0, at), wire.subarray(at + n)])),
    fc.nat({ max: wire.length - 1 }).map((at) => wire.subarray(0, at)),
  );

describe('RespDecoder properties', () => {
  it('any split of a valid stream gives the frames of one chunk, which are the values encoded', () => {
    fc.assert(
      fc.property(streamWithSplits, ([{ values, wire }, cuts]) => {
        const whole = decode(wire, []);
        expect(whole.error).toBeNull();
        expect(plain(whole.frames.map((f) => f.value))).toEqual(plain(values));
        expect(whole.frames.map((f) => f.byteLength)).toEqual(values.map((v) => encodeValue(v).length));
        const split = decode(wire, cuts);
        expect(plain(split)).toEqual(plain(whole));
      }),
      PARAMS,
    );
  });

  it('a truncated stream yields exactly the complete frames before the cut, and no error', () => {
    fc.assert(
      fc.property(
        streamWithSplits.chain(([stream, cuts]) =>
          fc.tuple(fc.constant(stream), fc.constant(cuts), fc.nat({ max: stream.wire.length })),
        ),
        ([{ values, wire }, cuts, at]) => {
          const cut = wire.subarray(0, at);
          const outcome = decode(
            cut,
            cuts.filter((c) => c <= at),
          );
          expect(outcome.error).toBeNull();
          let end = 0;
          const complete = values.filter((v) => (end += encodeValue(v).length) <= at);
          expect(plain(outcome.frames.map((f) => f.value))).toEqual(plain(complete));
          expect(outcome.offset + outcome.bufferedBytes).toBe(at);
        },
      ),
      PARAMS,
    );
  });

  it('damaged input gives frames or a RespProtocolError, the same for any split, with exact accounting', () => {
    fc.assert(
      fc.property(
        streamWithSplits.chain(([stream]) =>
          damage(stream.wire).chain((wire) => fc.tuple(fc.constant(wire), splitPoints(wire.length))),
        ),
        ([wire, cuts]) => {
          const whole = decode(wire, []);
          const split = decode(wire, cuts);
          expect(plain(split)).toEqual(plain(whole));
          const framed = whole.frames.reduce((sum, f) => sum + f.byteLength, 0);
          expect(framed).toBe(whole.offset);
          if (whole.error) {
            expect(whole.error.offset).toBeGreaterThanOrEqual(whole.offset);
            expect(whole.error.offset).toBeLessThanOrEqual(wire.length);
          } else {
            expect(whole.offset + whole.bufferedBytes).toBe(wire.length);
          }
        },
      ),
      PARAMS,
    );
  });

  it('with tight limits, a stream is accepted or refused the same way whatever its split', () => {
    const limits = fc.record({
      maxBulkLength: fc.integer({ min: 0, max: 40 }),
      maxArrayLength: fc.integer({ min: 0, max: 5 }),
      maxDepth: fc.integer({ min: 1, max: 4 }),
      maxLineLength: fc.integer({ min: 1, max: 30 }),
    });
    fc.assert(
      fc.property(streamWithSplits, limits, ([{ wire }, cuts], options) => {
        expect(plain(decode(wire, cuts, options))).toEqual(plain(decode(wire, [], options)));
      }),
      PARAMS,
    );
  });

  it('random bytes give frames or a RespProtocolError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        const wire = Buffer.from(raw);
        expect(plain(decode(wire, []))).toEqual(plain(decode(wire, [...wire.keys()])));
      }),
      PARAMS,
    );
  });
});

describe('RespDecoder slow senders', () => {
  // Regression: a partial type line was copied whole on every push, so a line of maxLineLength arriving byte by
  // byte cost O(n²) copying (about 100 s for the default 1 MiB): a slow or hostile peer could stall the worker.
  it('a type line arriving byte by byte up to maxLineLength is refused without quadratic copying', () => {
    const decoder = new RespDecoder(() => undefined);
    const one = Buffer.from('a');
    decoder.push(Buffer.from('+'));
    let pushed = 1;
    let refused: unknown = null;
    while (refused === null && pushed < 2 * 1024 * 1024) {
      try {
        decoder.push(one);
        pushed++;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(RespProtocolError);
    expect((refused as Error).message).toMatch(/longer than maxLineLength/);
    expect(pushed).toBe(1024 * 1024);
  }, 30_000);

  it('values from a line that grew over many pushes stay intact while later lines arrive', () => {
    const frames: RespFrame[] = [];
    const decoder = new RespDecoder((f) => frames.push(f));
    const wire = Buffer.from('*3\r\n$3\r\nabc\r\n+first line\r\n$5\r\nvwxyz\r\n:12345678\r\n+second\r\n');
    for (let i = 0; i < wire.length; i += 3) decoder.push(wire.subarray(i, i + 3));
    expect(plain(frames.map((f) => f.value))).toEqual(
      plain([
        {
          kind: 'array',
          value: [
            { kind: 'bulk', value: Buffer.from('abc') },
            { kind: 'simple', value: 'first line' },
            { kind: 'bulk', value: Buffer.from('vwxyz') },
          ],
        },
        { kind: 'integer', value: 12345678n },
        { kind: 'simple', value: 'second' },
      ]),
    );
  });
});

describe('RespDecoder huge declared lengths', () => {
  /** Growth of memory held by Buffers/ArrayBuffers while `run` executes (a GC is not forced: upper bound). */
  function externalGrowth(run: () => void): number {
    const before = process.memoryUsage().arrayBuffers;
    run();
    return process.memoryUsage().arrayBuffers - before;
  }

  it('a bulk header claiming 2 GB allocates nothing up front and is refused by the default limit', () => {
    const header = Buffer.from('$2147483648\r\n');
    const defaults = new RespDecoder(() => undefined);
    expect(() => defaults.push(header)).toThrow(RespProtocolError);

    const frames: RespFrame[] = [];
    const permissive = new RespDecoder((f) => frames.push(f), { maxBulkLength: 4 * 1024 ** 3 });
    const growth = externalGrowth(() => {
      permissive.push(header);
      for (let i = 0; i < 16; i++) permissive.push(Buffer.alloc(4096, 0x61));
    });
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    expect(frames).toEqual([]);
    expect(permissive.bufferedBytes).toBe(header.length + 16 * 4096);
  });

  it('an aggregate header claiming 2^31-1 elements allocates nothing up front', () => {
    const frames: RespFrame[] = [];
    const decoder = new RespDecoder((f) => frames.push(f));
    const growth = externalGrowth(() => {
      decoder.push(Buffer.from('*2147483647\r\n%2147483647\r\n~2147483647\r\n'));
      for (let i = 0; i < 1000; i++) decoder.push(Buffer.from(':1\r\n'));
    });
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    expect(frames).toEqual([]);
    const strict = new RespDecoder(() => undefined);
    expect(() => strict.push(Buffer.from('*2147483648\r\n'))).toThrow(/maxArrayLength/);
  });
});
