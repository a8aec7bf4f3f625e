import { keyspaceDbs, text, type DbClient } from '../verify/db-client.js';

/** SCAN COUNT hint: keys fetched per SCAN call (the walk itself is paced by the monitor). */
const SCAN_COUNT = 100;

/**
 * Walks every key of a source node, one at a time, pass after pass: SCAN through each db that holds keys (a
 * cluster node has db 0 only), and the dbs are read again at each pass. SCAN's guarantee holds per pass: a key
 * present for the whole pass is returned at least once.
 */
export class KeyWalker {
  private dbs: number[] = [];
  private dbIndex = 0;
  private cursor = '0';
  private batch: Buffer[] = [];
  private started = false;
  /** the current db's SCAN has been called since the pass began (cursor 0 then means the db is done) */
  private scannedOnce = false;

  constructor(
    private readonly source: DbClient,
    /** the node belongs to a cluster: db 0 only */
    private readonly clusterNode: boolean,
  ) {}

  /**
   * The next key, `pass-done` after the last key of a pass (the next call starts a new pass), or null when a SCAN
   * call returned no key this time (call again).
   */
  async next(): Promise<{ db: number; key: Buffer } | 'pass-done' | null> {
    if (!this.started) await this.beginPass();
    const key = this.batch.shift();
    if (key) return { db: this.dbs[this.dbIndex], key };
    if (this.cursor === '0' && this.scannedOnce) {
      // This db is done: the next one, or the end of the pass.
      this.dbIndex++;
      this.scannedOnce = false;
      if (this.dbIndex >= this.dbs.length) {
        this.started = false;
        return 'pass-done';
      }
    }
    const [cursor, keys] = (await this.source.call(
      this.dbs[this.dbIndex],
      'SCAN',
      this.cursor,
      'COUNT',
      SCAN_COUNT,
    )) as [Buffer, Buffer[]];
    this.cursor = text(cursor);
    this.scannedOnce = true;
    this.batch = keys;
    const first = this.batch.shift();
    return first ? { db: this.dbs[this.dbIndex], key: first } : null;
  }

  private async beginPass(): Promise<void> {
    this.started = true;
    this.dbIndex = 0;
    this.cursor = '0';
    this.scannedOnce = false;
    this.batch = [];
    if (this.clusterNode) {
      this.dbs = [0];
      return;
    }
    this.dbs = await keyspaceDbs(this.source);
  }
}
