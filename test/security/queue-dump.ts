import type { Redis } from 'ioredis';

/**
 * Every key of every database of the Redis behind `client`, with its type, TTL and full value as text: what an
 * operator (or an attacker) with read access to that Redis could see. Binary values are kept as latin1 so a byte
 * sequence of a password is still found by a substring search.
 */
export async function dumpEverything(client: Redis): Promise<{ keys: string[]; text: string }> {
  const keyspace = await client.info('keyspace');
  const dbs = [...keyspace.matchAll(/^db(\d+):/gm)].map((match) => Number(match[1]));
  const keys: string[] = [];
  const parts: string[] = [];
  for (const db of dbs.length > 0 ? dbs : [0]) {
    await client.select(db);
    let cursor = '0';
    do {
      const [next, batch] = await client.scanBuffer(cursor, 'COUNT', 1000);
      cursor = next.toString();
      for (const raw of batch) {
        const key = raw.toString('latin1');
        keys.push(`${db}:${key}`);
        parts.push(`db${db} ${key} ${await valueOf(client, raw)}`);
      }
    } while (cursor !== '0');
  }
  await client.select(0);
  return { keys, text: parts.join('\n') };
}

async function valueOf(client: Redis, key: Buffer): Promise<string> {
  const type = await client.type(key);
  // JSON.stringify would turn a Buffer into its byte list before any replacer sees it.
  const plain = (value: unknown): unknown =>
    Buffer.isBuffer(value)
      ? value.toString('latin1')
      : Array.isArray(value)
        ? value.map(plain)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([name, item]) => [name, plain(item)]))
          : value;
  const text = (value: unknown): string => JSON.stringify(plain(value));
  switch (type) {
    case 'string':
      return text(await client.getBuffer(key));
    case 'hash':
      return text(await client.hgetallBuffer(key));
    case 'list':
      return text(await client.lrangeBuffer(key, 0, -1));
    case 'set':
      return text(await client.smembersBuffer(key));
    case 'zset':
      return text(await client.zrangeBuffer(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return text(await client.xrangeBuffer(key, '-', '+'));
    default:
      return `(${type})`;
  }
}
