/**
 * Ordered prefix acknowledgement of replication offsets.
 *
 * Writes are pushed in source order; each may carry the source offset just after its bytes (or none, e.g. a
 * restored key or a command inside MULTI). Replies may complete writes out of order (different cluster nodes),
 * but the acknowledged offset only moves over a prefix in which every write is complete: it is the offset of the
 * last source byte whose effects the target has confirmed.
 *
 * Pure: no I/O, no timers. Entries live in a growable ring indexed by sequence number.
 */
export class AckTracker {
  private offsets: Float64Array;
  private dbs: Int32Array;
  private done: Uint8Array;
  private mask: number;
  /** sequence number of the oldest incomplete entry */
  private head = 0;
  /** sequence number the next push receives */
  private tail = 0;
  private ackOffset: number;
  private ackDb: number;

  /**
   * @param acknowledged - offset already confirmed (a resume point); -1 = none
   * @param db - source db selected at that offset
   */
  constructor(acknowledged = -1, db = 0, initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.offsets = new Float64Array(capacity);
    this.dbs = new Int32Array(capacity);
    this.done = new Uint8Array(capacity);
    this.mask = capacity - 1;
    this.ackOffset = acknowledged;
    this.ackDb = db;
  }

  /** the offset of the last source byte whose effects are confirmed; -1 = none yet */
  get acknowledged(): number {
    return this.ackOffset;
  }

  /** the source db selected at `acknowledged` (a resume must restore it) */
  get acknowledgedDb(): number {
    return this.ackDb;
  }

  /** entries pushed but not yet part of the acknowledged prefix */
  get size(): number {
    return this.tail - this.head;
  }

  /**
   * Declares a new resume point (a checkpoint, or -1 for a full resync). Writes still pending keep their place
   * in the order — later writes still wait for them — but no longer carry an offset: their offsets belonged to
   * the previous replication link.
   */
  rebase(acknowledged: number, db: number): void {
    for (let s = this.head; s < this.tail; s++) this.offsets[s & this.mask] = -1;
    this.ackOffset = acknowledged;
    this.ackDb = db;
  }

  /**
   * Appends a write in source order.
   *
   * @param offset - source offset just after this write's bytes, or -1 if the write alone does not complete a
   *   source offset (a restored key, a command inside a transaction)
   * @param db - source db selected after this write
   * @param complete - true for writes that need no reply (skipped commands, barriers)
   * @returns the entry's sequence number for {@link complete}, or -1 for a complete entry (which may have
   *   advanced `acknowledged` at once)
   */
  push(offset: number, db: number, complete: boolean): number {
    if (complete) {
      if (this.head === this.tail) {
        if (offset >= 0) this.setAck(offset, db);
        return -1;
      }
      // A complete entry behind another complete entry can be merged into it: both wait on the same prefix.
      const last = (this.tail - 1) & this.mask;
      if (this.done[last] === 1) {
        if (offset >= 0) {
          this.offsets[last] = offset;
          this.dbs[last] = db;
        }
        return -1;
      }
    }
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.offsets[i] = offset;
    this.dbs[i] = db;
    this.done[i] = complete ? 1 : 0;
    const seq = this.tail++;
    return complete ? -1 : seq;
  }

  /**
   * Marks a write confirmed.
   * @returns true if the acknowledged offset advanced
   */
  complete(seq: number): boolean {
    if (seq < this.head || seq >= this.tail) throw new Error(`AckTracker.complete: unknown entry ${seq}`);
    this.done[seq & this.mask] = 1;
    if (seq !== this.head) return false;
    const before = this.ackOffset;
    while (this.head < this.tail) {
      const i = this.head & this.mask;
      if (this.done[i] === 0) break;
      if (this.offsets[i] >= 0) this.setAck(this.offsets[i], this.dbs[i]);
      this.head++;
    }
    return this.ackOffset !== before;
  }

  private setAck(offset: number, db: number): void {
    // Within one link offsets only grow; a barrier may repeat one.
    if (offset > this.ackOffset) this.ackOffset = offset;
    this.ackDb = db;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const offsets = new Float64Array(capacity);
    const dbs = new Int32Array(capacity);
    const done = new Uint8Array(capacity);
    const mask = capacity - 1;
    for (let s = this.head; s < this.tail; s++) {
      const from = s & this.mask;
      const to = s & mask;
      offsets[to] = this.offsets[from];
      dbs[to] = this.dbs[from];
      done[to] = this.done[from];
    }
    this.offsets = offsets;
    this.dbs = dbs;
    this.done = done;
    this.mask = mask;
  }
}
