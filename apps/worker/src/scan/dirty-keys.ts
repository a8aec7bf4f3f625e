/** One key of one db of the source. */
export interface SourceKey {
  db: number;
  key: Buffer;
}

/**
 * Keys named by notifications and not yet re-read, oldest first. A key already waiting is not added twice, so a
 * hot key costs one re-read however often it changes before its turn; a key taken for re-reading and notified
 * again waits again (its re-read may have missed the newer change).
 *
 * Bounded: past `maxKeys` the set is dropped and `add` reports an overflow — the caller then re-scans, which
 * re-reads every key anyway. Memory is at most `maxKeys` keys (plus the Map's overhead).
 */
export class DirtyKeys {
  private readonly waiting = new Map<string, SourceKey>();

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.waiting.size;
  }

  /** @returns false when the set overflowed and was cleared: every waiting key was dropped */
  add(db: number, key: Buffer): boolean {
    const id = `${db}:${key.toString('latin1')}`;
    if (this.waiting.has(id)) return true;
    if (this.waiting.size >= this.maxKeys) {
      this.waiting.clear();
      return false;
    }
    // A copy: the notification's buffer may be a view of a larger socket chunk.
    this.waiting.set(id, { db, key: Buffer.from(key) });
    return true;
  }

  /** The oldest waiting key, removed from the set; undefined when none waits. */
  take(): SourceKey | undefined {
    const first = this.waiting.entries().next();
    if (first.done) return undefined;
    this.waiting.delete(first.value[0]);
    return first.value[1];
  }

  clear(): void {
    this.waiting.clear();
  }
}
