/** Samples kept before they are thinned out (every other one dropped, resolution doubled). */
const MAX_SAMPLES = 2048;

/**
 * How long ago the oldest stream byte the target has not confirmed arrived, to within `resolutionMs`.
 *
 * Arrivals are sampled as `(offset, at)`: the stream byte at `offset` (the first of a command) arrived at `at`; a
 * sample is taken at most once per resolution, and always for the first arrival after a quiet spell. So the byte at
 * the acknowledged offset arrived no earlier than the last sample at or before it, and less than one resolution
 * after it: its age is known to within the resolution, whatever the round trip of the link, and it is never 0 while
 * a byte is unconfirmed.
 *
 * The source's own offset, sampled on a control connection (`sourceHead`), adds what has not arrived yet: a byte
 * the source had produced at time t is at least `now − t` old while unconfirmed, so a worker held back by a cap
 * or a slow link does not report a lag that stops at what it happened to read.
 */
export class StreamLag {
  private samples: Array<{ offset: number; at: number }> = [];
  private resolutionMs: number;
  private head: { offset: number; at: number } | null = null;
  /**
   * The oldest source sample still ahead of what was received: the first unread byte existed by then. Kept while
   * newer samples arrive, so the age of unread bytes grows with the wait instead of restarting at each sample.
   */
  private aheadSince: { offset: number; at: number } | null = null;
  /** the clock read once per synchronous run of arrivals (the commands of one socket chunk arrive together) */
  private tick: number | null = null;
  private readonly endTick = () => {
    this.tick = null;
  };

  constructor(
    private readonly baseResolutionMs = 10,
    private readonly now: () => number = Date.now,
  ) {
    this.resolutionMs = baseResolutionMs;
  }

  /** The stream byte at `offset` arrived now (call once per command or chunk, with its first byte's offset). */
  arrived(offset: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && offset <= last.offset) return;
    if (this.tick === null) {
      this.tick = this.now();
      queueMicrotask(this.endTick);
    }
    const at = this.tick;
    if (last && at - last.at < this.resolutionMs) return;
    this.samples.push({ offset, at });
    if (this.samples.length > MAX_SAMPLES) {
      this.samples = this.samples.filter((_sample, index) => index % 2 === 0);
      this.resolutionMs *= 2;
    }
  }

  /** The source's `master_repl_offset`, sampled now. */
  sourceHead(offset: number): void {
    this.head = { offset, at: this.now() };
    this.aheadSince ??= this.head;
  }

  /** The byte at `offset` is where a new stream history starts (full resync, failover): forget the old one. */
  reset(): void {
    this.samples = [];
    this.head = null;
    this.aheadSince = null;
    this.resolutionMs = this.baseResolutionMs;
  }

  /**
   * Ms since the oldest unconfirmed byte reached the worker (or, not yet received, existed on the source); 0 when
   * everything received and sampled on the source is confirmed.
   * @param acknowledgedOffset offset up to which the target confirmed (-1: nothing yet, reported as 0)
   * @param receivedOffset offset up to which the stream was received
   */
  ageMs(acknowledgedOffset: number, receivedOffset: number): number {
    if (acknowledgedOffset < 0) return 0;
    const samples = this.samples;
    let drop = 0;
    while (drop + 1 < samples.length && samples[drop + 1].offset <= acknowledgedOffset) drop += 1;
    if (drop > 0) samples.splice(0, drop);
    const now = this.now();
    let age = 0;
    let behind = false;
    if (receivedOffset > acknowledgedOffset && samples.length > 0) {
      age = now - samples[0].at;
      behind = true;
    }
    const done = Math.max(acknowledgedOffset, receivedOffset);
    // The oldest sample is read through once its offset is: the newest one then speaks for what is still unread.
    if (this.aheadSince && this.aheadSince.offset <= done) {
      this.aheadSince = this.head && this.head.offset > done ? this.head : null;
    }
    if (this.aheadSince) {
      age = Math.max(age, now - this.aheadSince.at);
      behind = true;
    }
    // A byte that arrived this very millisecond is still lag: never 0 while anything is unconfirmed.
    return behind ? Math.max(1, Math.ceil(age)) : 0;
  }

  /** The source's offset at the last sample, when it is ahead of `receivedOffset`: bytes not read yet. */
  unreadBytes(receivedOffset: number): number | null {
    if (!this.head || receivedOffset < 0) return null;
    return Math.max(0, this.head.offset - receivedOffset);
  }
}
