import { byteByByte, randomChunks, seededRandom, startRedis } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { LzfError } from '../lzf.js';
import { LzfStreamDecoder } from './lzf-stream.js';

/** An LZF block as Redis wrote it: a compressible string, read back raw from a DUMP payload. */
async function compressedSample(): Promise<{ compressed: Buffer; plain: Buffer }> {
  const server = await startRedis();
  try {
    const client = server.client();
    const random = seededRandom(11);
    const words = Array.from({ length: 50 }, () => Math.floor(random() * 1e9).toString(36));
    const plain = Buffer.from(
      Array.from({ length: 40_000 }, () => words[Math.floor(random() * 50)]).join(' '),
    );
    await client.set('k', plain);
    const dump = (await client.dumpBuffer('k'))!;
    // DUMP: type byte 0, then the string: 0xC3, clen, ulen (both 32-bit lengths here), the block.
    expect(dump[1]).toBe(0xc3);
    expect(dump[2]).toBe(0x80);
    const clen = dump.readUInt32BE(3);
    expect(dump[7]).toBe(0x80);
    expect(dump.readUInt32BE(8)).toBe(plain.length);
    return { compressed: dump.subarray(12, 12 + clen), plain };
  } finally {
    await server.stop();
  }
}

describe('LzfStreamDecoder', () => {
  it('decompresses a block Redis wrote, single chunk, byte by byte and in random splits', async () => {
    const { compressed, plain } = await compressedSample();
    expect(compressed.length).toBeLessThan(plain.length / 2);
    const run = (chunks: Iterable<Buffer>) => {
      const decoder = new LzfStreamDecoder(plain.length);
      const out = Buffer.concat([...chunks].map((chunk) => decoder.push(chunk)));
      decoder.finish();
      return out;
    };
    expect(run([compressed]).equals(plain)).toBe(true);
    expect(run(byteByByte(compressed)).equals(plain)).toBe(true);
    for (let seed = 1; seed <= 20; seed++) {
      expect(run(randomChunks(compressed, seededRandom(seed), 3000)).equals(plain)).toBe(true);
    }
  }, 60_000);

  it('refuses a truncated block, a wrong declared length and a reference before the start', async () => {
    const { compressed, plain } = await compressedSample();
    const truncated = new LzfStreamDecoder(plain.length);
    truncated.push(compressed.subarray(0, compressed.length - 1));
    expect(() => truncated.finish()).toThrow(LzfError);
    const short = new LzfStreamDecoder(plain.length - 1);
    expect(() => short.push(compressed)).toThrow(LzfError);
    expect(() => new LzfStreamDecoder(100).push(Buffer.from([0x20, 0x05]))).toThrow(
      /before the output start/,
    );
  }, 60_000);
});
