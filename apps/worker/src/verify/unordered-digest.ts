import { createHash } from 'node:crypto';
import type { DbClient } from './db-client.js';

/**
 * The canonical content hash of a hash or a set, read by HSCAN/SSCAN windows so a big key is never loaded whole.
 * The hash of each element (field + value, or member) is XORed into a 256-bit accumulator: independent of the order
 * SCAN returns them in, which differs between encodings (listpack vs hashtable) and between servers. SCAN may return
 * an element twice (a rehash during the walk): elements already seen are skipped by a set of short digests of their
 * names, which costs ~50 bytes per element but never holds a value.
 */
export async function unorderedDigest(
  node: DbClient,
  db: number,
  key: Buffer,
  type: 'hash' | 'set',
  /** SCAN COUNT hint */
  count: number,
): Promise<{ digest: Buffer; elements: number }> {
  const command = type === 'hash' ? 'HSCAN' : 'SSCAN';
  const step = type === 'hash' ? 2 : 1;
  const accumulator = Buffer.alloc(32);
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, items] = (await node.call(db, command, key, cursor, 'COUNT', count)) as [Buffer, Buffer[]];
    cursor = next.toString('latin1');
    for (let i = 0; i < items.length; i += step) {
      const name = items[i];
      const id = createHash('sha1').update(name).digest('base64').slice(0, 16);
      if (seen.has(id)) continue;
      seen.add(id);
      const element = createHash('sha256');
      for (const part of items.slice(i, i + step)) element.update(lengthPrefix(part)).update(part);
      const bytes = element.digest();
      for (let b = 0; b < 32; b++) accumulator[b] ^= bytes[b];
    }
  } while (cursor !== '0');
  return { digest: accumulator, elements: seen.size };
}

/** 8 bytes of length before each part, so `["ab","c"]` and `["a","bc"]` hash differently. */
export function lengthPrefix(part: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(BigInt(part.length));
  return prefix;
}
