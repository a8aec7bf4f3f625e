/**
 * Ways to cut one wire image into the chunks a socket might deliver, for framer and parser tests: every case is
 * fed whole, byte by byte and at random split points. Randomness is seeded so a failing split reproduces.
 *
 * Split points are ascending offsets into the wire image: `[3, 10]` feeds bytes 0..2, 3..9 and 10..end.
 */

/** A deterministic PRNG (mulberry32) returning floats in [0, 1); the same `seed` gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Up to `count` distinct split points drawn from [0, length), ascending. Draws exactly `count` values from
 * `random`; duplicates collapse and a point at 0 only adds an empty first chunk.
 */
export function randomSplitPoints(length: number, random: () => number, count: number): number[] {
  const points = new Set<number>();
  for (let i = 0; i < count; i++) points.add(Math.floor(random() * length));
  return [...points].sort((x, y) => x - y);
}

/** The split points 1..length-1: one byte per chunk. */
export function everyByteSplitPoints(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

/** `buffer` in consecutive views of 1..`maxChunk` bytes each, sizes drawn from `random`. */
export function* randomChunks(buffer: Buffer, random: () => number, maxChunk: number): Generator<Buffer> {
  for (let at = 0; at < buffer.length;) {
    const n = 1 + Math.floor(random() * maxChunk);
    yield buffer.subarray(at, at + n);
    at += n;
  }
}

/** `buffer` as one-byte views. */
export function* byteByByte(buffer: Buffer): Generator<Buffer> {
  for (let i = 0; i < buffer.length; i++) yield buffer.subarray(i, i + 1);
}
