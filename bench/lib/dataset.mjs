/**
 * The bench dataset: seeded and reproducible (same seed and key count -> same keys, same bytes), written
 * with pipelined commands. Composition of `keys` keys:
 *   60% strings of 16–512 random bytes (random, so LZF cannot shrink them);
 *   ~10% each lists, sets, zsets and hashes of 10–1000 elements of 4–32 bytes;
 *   a few streams (1 per 100 000 keys, at least 1) of 100–1000 entries.
 * Element counts follow a skewed distribution over 10–1000 (`10 · 100^(u^8)`, mean ≈ 43): most
 * collections are small (listpack-encoded, as in real keyspaces), a tail reaches 1000 (hashtable / quicklist /
 * skiplist encodings). A uniform 10–1000 would make 1M keys ~200M elements, more than a bench machine holds.
 */

const STRING_SHARE = 0.6;
const BATCH = 500;

/** mulberry32: tiny, fast, good enough for benchmark data. Returns floats in [0, 1). */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Element count in 10–1000, skewed to small. */
function elementCount(random) {
  return Math.min(1000, Math.round(10 * 100 ** (random() ** 8)));
}

function bytes(random, min, max) {
  const length = min + Math.floor(random() * (max - min + 1));
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 4) {
    const word = (random() * 4294967296) >>> 0;
    out[i] = word & 0xff;
    if (i + 1 < length) out[i + 1] = (word >>> 8) & 0xff;
    if (i + 2 < length) out[i + 2] = (word >>> 16) & 0xff;
    if (i + 3 < length) out[i + 3] = word >>> 24;
  }
  return out;
}

/** Printable member, so sets and hash fields stay distinct and readable in redis-cli. */
function member(random, index) {
  return `m${index}:${Math.floor(random() * 1e9).toString(36)}`;
}

/**
 * Writes the dataset through `client` (ioredis, db 0). Returns counts by type and the number of elements.
 * @param {import('ioredis').Redis} client
 * @param {{ keys: number, seed?: number, prefix?: string }} options
 */
export async function generateDataset(client, { keys, seed = 1, prefix = 'bench' }) {
  const random = prng(seed);
  const streams = Math.max(1, Math.floor(keys / 100_000));
  const counts = { string: 0, list: 0, set: 0, zset: 0, hash: 0, stream: 0, elements: 0 };
  let pipeline = client.pipeline();
  let queued = 0;
  const flush = async () => {
    if (queued === 0) return;
    const results = await pipeline.exec();
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
    pipeline = client.pipeline();
    queued = 0;
  };
  for (let i = 0; i < keys - streams; i++) {
    const roll = random();
    if (roll < STRING_SHARE) {
      pipeline.set(`${prefix}:s:${i}`, bytes(random, 16, 512));
      counts.string += 1;
    } else {
      const kind = Math.floor(((roll - STRING_SHARE) / (1 - STRING_SHARE)) * 4);
      const n = elementCount(random);
      counts.elements += n;
      if (kind === 0) {
        pipeline.rpush(`${prefix}:l:${i}`, ...Array.from({ length: n }, () => bytes(random, 4, 32)));
        counts.list += 1;
      } else if (kind === 1) {
        pipeline.sadd(`${prefix}:t:${i}`, ...Array.from({ length: n }, (_, j) => member(random, j)));
        counts.set += 1;
      } else if (kind === 2) {
        const args = [];
        for (let j = 0; j < n; j++) args.push(Math.floor(random() * 1e6) / 100, member(random, j));
        pipeline.zadd(`${prefix}:z:${i}`, ...args);
        counts.zset += 1;
      } else {
        const args = [];
        for (let j = 0; j < n; j++) args.push(member(random, j), bytes(random, 4, 32));
        pipeline.hset(`${prefix}:h:${i}`, ...args);
        counts.hash += 1;
      }
    }
    queued += 1;
    if (queued >= BATCH) await flush();
  }
  for (let i = 0; i < streams; i++) {
    const entries = 100 + Math.floor(random() * 901);
    for (let j = 0; j < entries; j++) {
      pipeline.xadd(`${prefix}:x:${i}`, `${j + 1}-1`, 'f', bytes(random, 8, 64), 'n', String(j));
      queued += 1;
      if (queued >= BATCH) await flush();
    }
    counts.elements += entries;
    counts.stream += 1;
  }
  await flush();
  return counts;
}
