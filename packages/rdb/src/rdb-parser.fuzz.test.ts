import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RdbError } from './errors.js';
import { RdbParser } from './rdb-parser.js';
import type { RdbHandlers } from './types.js';

/*
 * Property tests (fast-check) of the streaming parser over the shared corpus (read-only): any split of a file
 * parses like one chunk; a mutated or truncated file gives the identical result or an RdbError with a stable
 * code, never another exception or a hang. fast-check prints the seed and path of a failing run; replay with
 * `{ seed, path }` in PARAMS.
 */

/**
 * Few enough runs for a loaded 2-core box (each property takes a few seconds at most); SB_FUZZ_RUNS asks for more
 * in a deeper, unhurried run.
 */
const PARAMS = { numRuns: Number(process.env.SB_FUZZ_RUNS ?? 300) };
/** Wall-clock bound per parsed input (corpus files here are under 64 KiB): only a hang can reach it. */
const TIME_BOUND_MS = 5_000;
/** Growth of Buffer memory per parsed input (an upper bound: no GC is forced between inputs). */
const MEMORY_BOUND_BYTES = 64 * 1024 * 1024;
const RDB_CODES = [
  'RDB_BAD_MAGIC',
  'RDB_UNSUPPORTED_VERSION',
  'RDB_TRUNCATED',
  'RDB_CHECKSUM_MISMATCH',
  'RDB_CORRUPT',
  'RDB_UNKNOWN_TYPE',
  'RDB_UNKNOWN_OPCODE',
  'RDB_UNSUPPORTED_FEATURE',
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'rdb-corpus');
const corpusPresent = existsSync(path.join(corpusDir, 'manifest.json'));

interface ManifestEntry {
  file: string;
  rdbVersion: number;
  bytes: number;
  mustReject?: string;
}

const small: Array<{ name: string; rdb: Buffer; valid: boolean }> = corpusPresent
  ? (JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as ManifestEntry[])
      .filter((e) => e.bytes <= 64 * 1024)
      .map((e) => ({
        name: path.basename(e.file, '.rdb'),
        rdb: readFileSync(path.join(corpusDir, e.file)),
        valid: !e.mustReject,
      }))
  : [];
const validFiles = small.filter((f) => f.valid);

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

interface Outcome {
  /** every handler call, serialised, in order */
  events: string[];
  /** the RdbError's code and offset, or null when the file parsed to its end */
  error: { code: string; offset: number } | null;
}

type Mode = 'decode' | 'payload' | 'bigKeys';

/** Parses `rdb` cut at `cuts` (sorted indexes); anything thrown that is not an RdbError propagates. */
function parse(rdb: Buffer, cuts: number[], mode: Mode, verifyChecksum = true, sized = false): Outcome {
  const events: string[] = [];
  const handlers: RdbHandlers = {
    onHeader: (v) => events.push(`header ${v}`),
    onAux: (k, v) => events.push(`aux ${k.toString('hex')} ${v.toString('hex')}`),
    onSelectDb: (db) => events.push(`select ${db}`),
    onResizeDb: (a, b) => events.push(`resize ${a} ${b}`),
    onFunction: (code) => events.push(`function ${code.toString('hex')}`),
    onModuleAux: (id) => events.push(`moduleAux ${id}`),
    onSlotInfo: (s, a, b) => events.push(`slot ${s} ${a} ${b}`),
    onKey: (rec) =>
      events.push(
        json({
          db: rec.db,
          key: rec.key.toString('hex'),
          expireAt: rec.expireAt,
          payload: rec.restorePayload.toString('hex'),
          value: rec.value,
        }),
      ),
    onEnd: (info) => events.push(`end ${info.checksum} ${info.bytes}`),
  };
  if (mode === 'bigKeys') {
    // Where a value starts streaming depends on what was buffered, so parts are only checked for crashes.
    handlers.onBigKeyStart = () => undefined;
    handlers.onBigKeyPart = () => undefined;
    handlers.onBigKeyEnd = () => undefined;
    handlers.onKey = () => undefined;
  }
  const parser = new RdbParser(handlers, {
    decode: mode === 'decode',
    verifyChecksum,
    ...(mode === 'bigKeys' ? { bigKeyThreshold: 64 } : {}),
    ...(sized ? { expectedSize: rdb.length } : {}),
  });
  const started = Date.now();
  const memoryBefore = process.memoryUsage().arrayBuffers;
  let error: Outcome['error'] = null;
  let from = 0;
  try {
    for (const cut of cuts) {
      parser.push(rdb.subarray(from, cut));
      from = cut;
    }
    parser.push(rdb.subarray(from));
    parser.end();
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    expect(RDB_CODES).toContain(err.code);
    expect(err.message).toMatch(/offset \d+/);
    error = { code: err.code, offset: err.offset };
  }
  expect(Date.now() - started).toBeLessThan(TIME_BOUND_MS);
  // Inputs are under 64 KiB (LZF may expand them 100-fold): a length field alone must not reserve memory.
  expect(process.memoryUsage().arrayBuffers - memoryBefore).toBeLessThan(MEMORY_BOUND_BYTES);
  return { events, error };
}

const splitPoints = (length: number) =>
  fc
    .array(fc.integer({ min: 0, max: length }), { maxLength: 16 })
    .map((points) => [...new Set(points)].sort((a, b) => a - b));

/** Overwrites, inserts or deletes a few bytes, or truncates. */
const damage = (rdb: Buffer) =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.nat({ max: rdb.length - 1 }), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((flips) => {
        const out = Buffer.from(rdb);
        for (const [at, xor] of flips) out[at] ^= xor;
        return out;
      }),
    fc
      .tuple(fc.nat({ max: rdb.length }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, extra]) => Buffer.concat([rdb.subarray(0, at), extra, rdb.subarray(at)])),
    fc
      .tuple(fc.nat({ max: rdb.length - 1 }), fc.integer({ min: 1, max: 8 }))
      .map(([at, n]) => Buffer.concat([rdb.subarray(0, at), rdb.subarray(at + n)])),
    fc.nat({ max: rdb.length - 1 }).map((at) => rdb.subarray(0, at)),
    // A length field claiming far more than the file holds: 32-bit (0x80) or 64-bit (0x81) big-endian.
    fc
      .tuple(
        fc.nat({ max: rdb.length - 1 }),
        fc.oneof(
          fc.constant(Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff])),
          fc.constant(Buffer.from([0x80, 0x7f, 0xff, 0xff, 0xf0])),
          fc.bigInt(2n ** 31n, 2n ** 53n).map((n) => {
            const b = Buffer.alloc(9);
            b[0] = 0x81;
            b.writeBigUInt64BE(n, 1);
            return b;
          }),
        ),
      )
      .map(([at, length]) => {
        const out = Buffer.from(rdb);
        length.copy(out, at);
        return out;
      }),
  );

const mode = fc.constantFrom<Mode>('decode', 'payload', 'bigKeys');

describe.skipIf(validFiles.length === 0)('RdbParser properties over the corpus', () => {
  it('any split of a corpus file gives the events of one chunk', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...validFiles)
          .chain((file) => fc.tuple(fc.constant(file), splitPoints(file.rdb.length), mode)),
        ([file, cuts, m]) => {
          const whole = parse(file.rdb, [], m);
          expect(whole.error, file.name).toBeNull();
          expect(parse(file.rdb, cuts, m), file.name).toEqual(whole);
        },
      ),
      PARAMS,
    );
  });

  it('a damaged file gives the identical result or a coded RdbError, the same for any split', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...small)
          .chain((file) =>
            damage(file.rdb).chain((rdb) =>
              fc.tuple(
                fc.constant(file),
                fc.constant(rdb),
                splitPoints(rdb.length),
                mode,
                fc.boolean(),
                fc.boolean(),
              ),
            ),
          ),
        ([file, rdb, cuts, m, verifyChecksum, sized]) => {
          const whole = parse(rdb, [], m, verifyChecksum);
          // Knowing the size only makes a damaged length fail sooner, with the same verdict.
          const split = parse(rdb, cuts, m, verifyChecksum, sized);
          if (m === 'bigKeys') {
            // Streaming starts at a point that depends on the split, so only the verdict is comparable.
            expect(split.error?.code, file.name).toBe(whole.error?.code);
          } else {
            expect(split, file.name).toEqual(whole);
          }
          const original = parse(file.rdb, [], m, verifyChecksum);
          const checked = verifyChecksum && file.valid && /^end [1-9]/.test(original.events.at(-1) ?? '');
          // With a verified checksum a damaged file cannot pass as another one.
          if (checked && whole.error === null) expect(whole, file.name).toEqual(original);
        },
      ),
      PARAMS,
    );
  });

  it('a file cut anywhere fails with RDB_TRUNCATED at the cut, after the events of the complete items', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validFiles).chain((file) =>
          fc.tuple(
            fc.constant(file),
            fc.nat({ max: file.rdb.length - 1 }),
            splitPoints(file.rdb.length),
            mode.filter((m) => m !== 'bigKeys'),
          ),
        ),
        ([file, at, cuts, m]) => {
          const full = parse(file.rdb, [], m);
          const cut = parse(
            file.rdb.subarray(0, at),
            cuts.filter((c) => c <= at),
            m,
          );
          expect(cut.error, `${file.name} cut at ${at}`).toEqual({ code: 'RDB_TRUNCATED', offset: at });
          expect(full.events.slice(0, cut.events.length)).toEqual(cut.events);
        },
      ),
      PARAMS,
    );
  });
});

describe('RdbParser huge declared lengths', () => {
  const header = Buffer.from('REDIS0011');
  /** a 32-bit RDB length (0x80 prefix, big-endian) */
  const len32 = (n: number): Buffer =>
    Buffer.from([0x80, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  /** a 64-bit RDB length (0x81 prefix, big-endian) */
  const len64 = (n: bigint): Buffer => {
    const b = Buffer.alloc(9);
    b[0] = 0x81;
    b.writeBigUInt64BE(n, 1);
    return b;
  };
  const key = Buffer.from([0x01, 0x6b]);

  /** Pushes `body` after the header plus 64 KiB of filler; memory held by Buffers must not grow by the claim. */
  function expectNoUpFrontAllocation(body: Buffer, mode: Mode): void {
    const parser = new RdbParser(
      mode === 'bigKeys'
        ? {
            onKey: () => undefined,
            onBigKeyStart: () => undefined,
            onBigKeyPart: () => undefined,
            onBigKeyEnd: () => undefined,
          }
        : { onKey: () => undefined },
      { decode: mode === 'decode' },
    );
    const before = process.memoryUsage().arrayBuffers;
    // The filler may itself be refused (RDB_CORRUPT) before the claim is ever reached: that is fine too.
    const refused = (() => {
      try {
        parser.push(Buffer.concat([header, body]));
        for (let i = 0; i < 16; i++) parser.push(Buffer.alloc(4096, 0x01));
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    if (refused !== null) expect(refused).toBeInstanceOf(RdbError);
    else expect(() => parser.end()).toThrow(RdbError);
  }

  const claims: Array<[string, Buffer]> = [
    ['a string of 4 GiB - 1 (32-bit length)', Buffer.concat([Buffer.from([0x00]), key, len32(0xffffffff)])],
    ['a string of 2^50 bytes (64-bit length)', Buffer.concat([Buffer.from([0x00]), key, len64(2n ** 50n)])],
    ['a list of 4 billion elements', Buffer.concat([Buffer.from([0x01]), key, len32(0xffffffff)])],
    ['a set of 2^52 members', Buffer.concat([Buffer.from([0x02]), key, len64(2n ** 52n)])],
    ['a hash of 4 billion fields', Buffer.concat([Buffer.from([0x04]), key, len32(0xffffffff)])],
    ['a quicklist of 4 billion nodes', Buffer.concat([Buffer.from([0x0e]), key, len32(0xffffffff)])],
    ['a zset of 4 billion members', Buffer.concat([Buffer.from([0x05]), key, len32(0xffffffff)])],
    [
      'an LZF string declaring 4 GiB from 4 GiB',
      Buffer.concat([Buffer.from([0x00]), key, Buffer.from([0xc3]), len32(0xffffffff), len32(0xffffffff)]),
    ],
    ['an aux field of 4 GiB', Buffer.concat([Buffer.from([0xfa]), len32(0xffffffff)])],
  ];

  for (const [what, body] of claims) {
    for (const m of ['decode', 'payload', 'bigKeys'] as const) {
      it(`${what} allocates nothing up front (${m})`, () => expectNoUpFrontAllocation(body, m));
    }
  }

  // Regression: with the size known (rdb-import passes the file size), a damaged length used to keep every later
  // chunk buffered until end(): up to the whole file in memory before the error.
  it('with expectedSize, a length claiming more than the file fails at once instead of buffering the file', () => {
    const fileSize = 64 * 1024 * 1024;
    const parser = new RdbParser({ onKey: () => undefined }, { expectedSize: fileSize, decode: false });
    let pushed = 0;
    const push = (chunk: Buffer) => {
      parser.push(chunk);
      pushed += chunk.length;
    };
    const refused = (() => {
      try {
        push(Buffer.concat([header, Buffer.from([0x00]), key, len32(0xffffffff)]));
        for (let i = 0; i < 1024; i++) push(Buffer.alloc(64 * 1024));
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toMatchObject({ code: 'RDB_TRUNCATED', offset: fileSize });
    expect((refused as Error).message).toMatch(
      /^RDB truncated: the RDB is 67108864 bytes long, but .* needs at least 4294967\d+ bytes/,
    );
    expect(pushed).toBe(0);
  });

  // Found by the damage property (seed 1518999605): the early size check must not pre-empt the magic check.
  it('with expectedSize, a short file with a wrong magic is still RDB_BAD_MAGIC', () => {
    const parser = new RdbParser({ onKey: () => undefined }, { expectedSize: 5 });
    const outcome = (() => {
      try {
        parser.push(Buffer.from('R'));
        parser.push(Buffer.from('ED3\xff', 'latin1'));
        parser.end();
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(outcome).toMatchObject({ code: 'RDB_BAD_MAGIC', offset: 0 });
  });

  // Found by the damage property (seed 1631527903): a small value must not be streamed just because the bytes of
  // the items after it are buffered too (the stream path validates a listpack the RESTORE path carries as is).
  it('a small quicklist value is read whole whatever else is buffered after it', () => {
    const at = (...bytes: number[]) => Buffer.from(bytes);
    const listpack = Buffer.concat([at(50, 250, 0, 0), Buffer.alloc(46, 1)]); // total-bytes field damaged
    const rdb = Buffer.concat([
      header,
      at(18, 1, 0x6c, 1, 2, 50), // quicklist 2: key "l", one packed node of 50 bytes
      listpack,
      Buffer.alloc(300, 0xfe), // what follows is buffered in the same chunk; its verdict does not matter
    ]);
    const outcome = (chunks: Buffer[]) => {
      const bigKeys: string[] = [];
      const parser = new RdbParser(
        {
          onKey: () => undefined,
          onBigKeyStart: (info) => bigKeys.push(info.key.toString()),
          onBigKeyPart: () => undefined,
          onBigKeyEnd: () => undefined,
        },
        { bigKeyThreshold: 64, verifyChecksum: false },
      );
      try {
        for (const chunk of chunks) parser.push(chunk);
        parser.end();
      } catch (error) {
        return { bigKeys, code: (error as { code?: string }).code };
      }
      return { bigKeys, code: null };
    };
    const whole = outcome([rdb]);
    expect(whole.bigKeys).toEqual([]);
    for (const cut of [header.length + 2, header.length + 6, header.length + 30]) {
      expect(outcome([rdb.subarray(0, cut), rdb.subarray(cut)])).toEqual(whole);
    }
  });

  it('a length beyond 2^53 is RDB_CORRUPT', () => {
    const parser = new RdbParser({ onKey: () => undefined });
    expect(() => parser.push(Buffer.concat([header, Buffer.from([0x00]), key, len64(2n ** 63n)]))).toThrow(
      expect.objectContaining({ code: 'RDB_CORRUPT' }),
    );
  });
});
