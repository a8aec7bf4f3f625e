import type { Redis } from 'ioredis';

/**
 * One connection that reads from several dbs. Commands on one ioredis connection are sent in call order, so a
 * SELECT queued in the same tick as the command it prepares always precedes it, even with other reads in flight:
 * reads of many keys can run concurrently without a connection per db.
 */
export class DbClient {
  private db = 0;
  /** the last SELECT sent: every command after it fails with it, never runs silently in the wrong db */
  private selecting: Promise<unknown> = Promise.resolve();

  constructor(
    readonly redis: Redis,
    /** names the node in messages (`shard p-0 (node-1:6379 via 127.0.0.1:30001)`, `target 10.0.0.9:6379`) */
    readonly label: string,
  ) {}

  /** Sends `command` in `db`; replies as Buffers (keys and values are binary). */
  call(db: number, command: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    if (db !== this.db) {
      this.selecting = this.redis.select(db).catch((error: Error) => {
        this.db = -1; // unknown now: the next call selects again
        throw new Error(`SELECT ${db} failed on ${this.label}: ${error.message}`);
      });
      this.selecting.catch(() => undefined);
      this.db = db;
    }
    const reply = this.redis.callBuffer(command, ...args);
    return Promise.all([this.selecting, reply]).then(([, value]) => value);
  }
}

/** A reply of `callBuffer` as text (status replies and bulk strings alike). */
export function text(reply: unknown): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** A key as reports name it: UTF-8 when it round-trips, else `base64:<...>`. */
export function printableKey(key: Buffer): string {
  const utf8 = key.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(key) ? utf8 : `base64:${key.toString('base64')}`;
}

/** The node's `redis_version` (`unknown` when INFO does not say). */
export async function redisVersion(node: DbClient): Promise<string> {
  const info = text(await node.call(0, 'INFO', 'server'));
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}

/** The dbs that hold keys on a standalone node, ascending; [0] when none does. */
export async function keyspaceDbs(node: DbClient): Promise<number[]> {
  const info = text(await node.call(0, 'INFO', 'keyspace'));
  const dbs = [...info.matchAll(/^db(\d+):keys=(\d+)/gm)]
    .filter((m) => Number(m[2]) > 0)
    .map((m) => Number(m[1]));
  return dbs.length > 0 ? dbs.sort((a, b) => a - b) : [0];
}
