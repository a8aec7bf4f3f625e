/**
 * The source db selected at each offset of the stream, for checkpoints when a filter sits before the writer: the
 * writer then only knows target dbs (mapped, or never told about a filtered db), but a resume must restart the
 * stream in the *source* db. Holds one entry per SELECT not yet behind the acknowledged offset.
 */
export class SourceDbHistory {
  /** (offset after the SELECT, db selected from there on), in stream order */
  private changes: Array<{ offset: number; db: number }> = [];
  private base: number;

  constructor(db: number) {
    this.base = db;
  }

  /** The stream selected `db`; `offsetAfter` is the offset just after that SELECT. */
  record(offsetAfter: number, db: number): void {
    const last = this.changes.at(-1);
    if ((last?.db ?? this.base) === db) return;
    this.changes.push({ offset: offsetAfter, db });
  }

  /** the source db selected at `offset` (an acknowledged offset); forgets changes behind it */
  at(offset: number): number {
    let drop = 0;
    while (drop < this.changes.length && this.changes[drop].offset <= offset) {
      this.base = this.changes[drop].db;
      drop++;
    }
    if (drop > 0) this.changes = this.changes.slice(drop);
    return this.base;
  }

  /** a new resume point: `db` at the restart offset, nothing after it */
  reset(db: number): void {
    this.changes = [];
    this.base = db;
  }
}
