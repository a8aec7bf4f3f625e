import { openSourceClient, refusalOf, type SourceClient, type SourceClientOptions } from './source-client.js';
import type { ScanLinkError } from './scan-errors.js';

/** One key as read from the source: its DUMP payload (null = no such key) and PTTL (-1 none, -2 gone). */
export interface KeyRead {
  payload: Buffer | null;
  pttlMs: number;
}

/**
 * The command connection of a scan-mode shard: SCAN, DUMP + PTTL, INFO, CONFIG. Every call is pipelined on one
 * connection (never awaited one by one), so replies — and hence the writes made from them — come back in the
 * order the reads were issued: a later read of a key always wins over an earlier one.
 *
 * Contract on db: the connection tracks its selected db and sends SELECT only when a call needs another one;
 * SELECT and the call are pipelined in order, so no call ever runs in the wrong db.
 */
export class SourceReader {
  private db = 0;

  private constructor(private readonly link: SourceClient) {}

  static async open(
    options: SourceClientOptions,
    onLost: (error: ScanLinkError) => void,
  ): Promise<SourceReader> {
    return new SourceReader(await openSourceClient(options, 'command', onLost));
  }

  get label(): string {
    return this.link.label;
  }

  /** `DUMP key` and `PTTL key`, pipelined. Between the two the key may change: its notification re-reads it. */
  read(db: number, key: Buffer): Promise<KeyRead> {
    this.use(db);
    const redis = this.link.redis;
    const dump = redis.callBuffer('DUMP', key) as Promise<Buffer | null>;
    const pttl = redis.call('PTTL', key) as Promise<number>;
    return Promise.all([dump, pttl]).then(
      ([payload, pttlMs]) => ({ payload, pttlMs }),
      (error: unknown) => {
        throw refusalOf(error, this.label, 'DUMP/PTTL');
      },
    );
  }

  /** `EXISTS key`: does the source hold it now (pipelined like the reads, so ordered with them). */
  exists(db: number, key: Buffer): Promise<boolean> {
    this.use(db);
    return (this.link.redis.call('EXISTS', key) as Promise<number>).then(
      (count) => count > 0,
      (error: unknown) => {
        throw refusalOf(error, this.label, 'EXISTS');
      },
    );
  }

  /** One SCAN step in `db`; cursor `'0'` starts (and, returned, ends) a pass. */
  async scan(db: number, cursor: string, count: number): Promise<{ cursor: string; keys: Buffer[] }> {
    this.use(db);
    try {
      const [next, keys] = (await this.link.redis.callBuffer('SCAN', cursor, 'COUNT', count)) as [
        Buffer,
        Buffer[],
      ];
      return { cursor: next.toString('latin1'), keys };
    } catch (error) {
      throw refusalOf(error, this.label, 'SCAN');
    }
  }

  /** Dbs that hold keys now (INFO keyspace), ascending. */
  async keyspaceDbs(): Promise<number[]> {
    let text: string;
    try {
      text = (await this.link.redis.call('INFO', 'keyspace')) as string;
    } catch (error) {
      throw refusalOf(error, this.label, 'INFO');
    }
    const dbs: number[] = [];
    for (const match of text.matchAll(/^db(\d+):keys=(\d+)/gm))
      if (Number(match[2]) > 0) dbs.push(Number(match[1]));
    return dbs.sort((a, b) => a - b);
  }

  /** `CONFIG GET name` → value (''/missing = empty). Refusals reject with the server's reply, unwrapped. */
  async configGet(name: string): Promise<string> {
    const reply = (await this.link.redis.call('CONFIG', 'GET', name)) as string[];
    return reply[1] ?? '';
  }

  async configSet(name: string, value: string): Promise<void> {
    await this.link.redis.call('CONFIG', 'SET', name, value);
  }

  /** `FUNCTION DUMP` (null when the source has no libraries, or does not know FUNCTION: before Redis 7). */
  async functionDump(): Promise<Buffer | null> {
    try {
      return (await this.link.redis.callBuffer('FUNCTION', 'DUMP')) as Buffer | null;
    } catch {
      return null;
    }
  }

  /** Any other command (the notification probe). */
  call(db: number, ...args: Array<string | Buffer>): Promise<unknown> {
    this.use(db);
    const [command, ...rest] = args;
    return this.link.redis.call(String(command), ...rest);
  }

  close(): void {
    this.link.close();
  }

  private use(db: number): void {
    if (db === this.db) return;
    this.db = db;
    // Its failure would be the failure of the pipelined call after it, which reports the error.
    this.link.redis.select(db).catch(() => undefined);
  }
}
