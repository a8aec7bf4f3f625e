import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { byteByByte, randomChunks, seededRandom, startRedis } from '@shardbridge/testkit';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RdbParser } from '../rdb-parser.js';
import type { BigKeyInfo, BigValuePart } from './big-value-stream.js';
import type { RdbKeyRecord, RdbValue } from '../types.js';

const THRESHOLD = 8 * 1024;

/** What a parse handed over: whole keys by name, and big keys reassembled from their parts. */
interface Parsed {
  whole: Map<string, RdbKeyRecord>;
  big: Map<string, { info: BigKeyInfo; parts: BigValuePart[] }>;
}

function parse(rdb: Buffer, chunks: Iterable<Buffer>, threshold = THRESHOLD): Parsed {
  const parsed: Parsed = { whole: new Map(), big: new Map() };
  let current: { info: BigKeyInfo; parts: BigValuePart[] } | null = null;
  const parser = new RdbParser(
    {
      onKey: (record) => parsed.whole.set(record.key.toString(), record),
      onBigKeyStart: (info) => {
        current = { info, parts: [] };
      },
      onBigKeyPart: (part) => current!.parts.push(part),
      onBigKeyEnd: () => {
        parsed.big.set(current!.info.key.toString(), current!);
        current = null;
      },
    },
    { bigKeyThreshold: threshold, expectedSize: rdb.length },
  );
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return parsed;
}

/** Joins the parts of a big value into the shape a whole-key parse gives. */
function assemble(parts: BigValuePart[]): RdbValue {
  const type = parts[0].type;
  if (type === 'string') return { type, value: Buffer.concat(parts.map((part) => part.value as Buffer)) };
  return { type, value: parts.flatMap((part) => part.value as never[]) } as RdbValue;
}

describe('RdbParser big-key streaming (an RDB written by a real redis-server)', () => {
  let rdb: Buffer;
  let reference: Map<string, RdbKeyRecord>;
  let noiseSample: Buffer;

  beforeAll(async () => {
    const server = await startRedis();
    try {
      const client = server.client();
      const random = seededRandom(7);
      const noise = Buffer.alloc(24_000);
      for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
      await client.set('string:big', noise);
      noiseSample = noise.subarray(12_000, 12_032);
      await client.set(
        'string:compressible',
        `${'abc'.repeat(20_000)}${noise.subarray(0, 2000).toString('hex')}`,
      );
      await client.set('string:small', 'hello');
      const list = Array.from({ length: 1000 }, (_, i) => `element-${i}-${random().toString(36)}`);
      list.push('x'.repeat(9000)); // a PLAIN quicklist node in between packed ones
      list.push(...Array.from({ length: 100 }, (_, i) => `tail-${i}`));
      for (let i = 0; i < list.length; i += 1000) await client.rpush('list:big', ...list.slice(i, i + 1000));
      await client.pexpireat('list:big', Date.now() + 3_600_000);
      await client.sadd(
        'set:big',
        ...Array.from({ length: 600 }, (_, i) => `member-${i}-${random().toString(36)}`),
      );
      const z: Array<string | number> = [];
      for (let i = 0; i < 600; i++) z.push(i === 0 ? '-inf' : i / 7, `zm-${i}-${random().toString(36)}`);
      await client.zadd('zset:big', ...z);
      await client.hset(
        'hash:big',
        ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}-${random().toString(36)}`]).flat(),
      );
      await client.rpush('list:small', 'a', 'b');
      await client.save();
      rdb = await readFile(join(server.dir, 'dump.rdb'));
    } finally {
      await server.stop();
    }
    reference = parse(rdb, [rdb], Infinity).whole;
  }, 60_000);

  it('hands big values over in parts that reassemble to the whole value; small keys stay whole records', () => {
    const parsed = parse(rdb, [rdb]);
    expect([...parsed.big.keys()].sort()).toEqual([
      'hash:big',
      'list:big',
      'set:big',
      'string:big',
      'string:compressible',
      'zset:big',
    ]);
    expect([...parsed.whole.keys()].sort()).toEqual(['list:small', 'string:small']);
    for (const [name, { info, parts }] of parsed.big) {
      expect(assemble(parts)).toEqual(reference.get(name)!.value);
      expect(info.expireAt).toBe(reference.get(name)!.expireAt);
      // strings come in slices of 256 KiB raw or 16 KiB compressed: these small ones take a single slice
      if (info.type !== 'string') expect(parts.length).toBeGreaterThan(1);
      for (const part of parts) expect(part.type).toBe(info.type);
    }
  });

  it('gives the same result fed byte by byte and in random splits', () => {
    const whole = parse(rdb, [rdb]);
    const check = (parsed: Parsed) => {
      expect([...parsed.whole.keys()].sort()).toEqual([...whole.whole.keys()].sort());
      for (const [name, { parts }] of whole.big)
        expect(assemble(parsed.big.get(name)!.parts)).toEqual(assemble(parts));
    };
    check(parse(rdb, byteByByte(rdb)));
    for (let seed = 1; seed <= 10; seed++) check(parse(rdb, randomChunks(rdb, seededRandom(seed), 20_000)));
  });

  it('still verifies the checksum over streamed bytes', () => {
    const damaged = Buffer.from(rdb);
    const at = damaged.indexOf(noiseSample);
    expect(at).toBeGreaterThan(0);
    damaged[at + 8] ^= 0x01;
    expect(() => parse(damaged, [damaged])).toThrow(
      expect.objectContaining({ code: 'RDB_CHECKSUM_MISMATCH' }),
    );
  });

  it('memory: the parser buffers about the threshold (or a string slice) for a big value, not the value', () => {
    let maxBuffered = 0;
    const parser = new RdbParser(
      {
        onKey: () => undefined,
        onBigKeyStart: () => undefined,
        onBigKeyPart: () => undefined,
        onBigKeyEnd: () => undefined,
      },
      { bigKeyThreshold: THRESHOLD },
    );
    for (const chunk of randomChunks(rdb, seededRandom(3), 16 * 1024)) {
      parser.push(chunk);
      maxBuffered = Math.max(maxBuffered, (parser as unknown as { available: number }).available);
    }
    parser.end();
    // bound: the threshold plus a chunk, or a string slice (the whole 24 kB string here) plus a chunk
    expect(maxBuffered).toBeLessThan(24_000 + 2 * 16 * 1024);
    expect(maxBuffered).toBeLessThan(rdb.length / 2);
  });
});

describe('RdbParser big-key streaming of a list many times the threshold', () => {
  const threshold = 1024 * 1024;
  let rdb: Buffer;
  let lateBigRdb: Buffer;
  let elements: number;

  beforeAll(async () => {
    const server = await startRedis();
    try {
      const client = server.client();
      const random = seededRandom(11);
      const element = () => Buffer.from(Array.from({ length: 512 }, () => Math.floor(random() * 256)));
      elements = 8192; // 4 MiB of incompressible elements
      for (let i = 0; i < elements; i += 1024) {
        await client.rpush('list:huge', ...Array.from({ length: 1024 }, element));
      }
      await client.save();
      rdb = await readFile(join(server.dir, 'dump.rdb'));
      await client.del('list:huge');
      // Small elements first, one big one last: the estimate from the first node says small, so this one is
      // recognised only once its buffered bytes reach the threshold.
      await client.rpush('list:late-big', ...Array.from({ length: 100 }, (_, i) => `small-${i}`));
      const late = Buffer.alloc(3 * threshold);
      for (let i = 0; i < late.length; i++) late[i] = Math.floor(random() * 256); // LZF cannot shrink it
      await client.rpush('list:late-big', late);
      await client.save();
      lateBigRdb = await readFile(join(server.dir, 'dump.rdb'));
    } finally {
      await server.stop();
    }
  }, 60_000);

  afterEach(() => vi.restoreAllMocks());

  it('never joins the buffered chunks of a big value into one buffer of the threshold (or more)', () => {
    const joins: number[] = [];
    const concat = Buffer.concat.bind(Buffer);
    vi.spyOn(Buffer, 'concat').mockImplementation((list, length) => {
      const joined = concat(list, length);
      joins.push(joined.length);
      return joined;
    });
    expect(streamedElements(rdb)).toEqual(new Map([['list:huge', elements]]));
    expect(Math.max(...joins)).toBeLessThan(threshold);
  });

  it('streams a value whose first elements look small once its buffered bytes reach the threshold', () => {
    // Its one big element is a single unit, read whole; the 100 small ones before it are not held back.
    expect(streamedElements(lateBigRdb)).toEqual(new Map([['list:late-big', 101]]));
  });

  /** Elements handed over in parts, per big key, for the file pushed in 64 KiB chunks. */
  function streamedElements(file: Buffer): Map<string, number> {
    const streamed = new Map<string, number>();
    let key = '';
    const parser = new RdbParser(
      {
        onKey: () => undefined,
        onBigKeyStart: (info) => (key = info.key.toString()),
        onBigKeyPart: (part) => streamed.set(key, (streamed.get(key) ?? 0) + part.value.length),
        onBigKeyEnd: () => undefined,
      },
      { bigKeyThreshold: threshold, expectedSize: file.length },
    );
    for (let at = 0; at < file.length; at += 64 * 1024) parser.push(file.subarray(at, at + 64 * 1024));
    parser.end();
    return streamed;
  }

  it('streams a value that its count and first elements show to be big from its first bytes', () => {
    const buffered = new Map<string, number>();
    const parser = new RdbParser(
      {
        onKey: () => undefined,
        onBigKeyStart: (info) => buffered.set(info.key.toString(), parser.bytesConsumed),
        onBigKeyPart: () => undefined,
        onBigKeyEnd: () => undefined,
      },
      { bigKeyThreshold: threshold },
    );
    let pushedWhenSeen = -1;
    for (let at = 0; at < rdb.length; at += 4096) {
      parser.push(rdb.subarray(at, at + 4096));
      if (pushedWhenSeen < 0 && buffered.has('list:huge')) pushedWhenSeen = Math.min(rdb.length, at + 4096);
    }
    parser.end();
    // list:huge was announced once its first 16 quicklist nodes (~8 KiB each) had arrived, not a threshold's worth
    expect(pushedWhenSeen - buffered.get('list:huge')!).toBeLessThan(threshold / 4);
  });
});
