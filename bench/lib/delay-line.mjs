/**
 * One direction of a simulated WAN link: every chunk read from `from` is written to `to` `delayMs` after it
 * arrived, in order. A FIFO of (due time, chunk) is drained by ONE timer armed for the head's due time, so the cost
 * per chunk is a push and a write, never a timer of its own; chunks due together leave in one corked write.
 *
 * Buffer: like a link's (and the receiving kernel's) buffer, at most `maxQueuedBytes` wait in the line; past that,
 * reading from `from` pauses until half of it has left, so the sender's TCP window closes as it would on a real link.
 * The default (64 MiB) holds more than the bandwidth-delay product of a 1 Gbit/s link at 150 ms one way (~19 MB),
 * so it never caps throughput below such a link. When `to` itself is slow (its write() returns false), draining
 * waits for its 'drain' and the overdue chunks leave late, as a full receive window would make them.
 *
 * End of stream: `from`'s FIN is passed on (to.end()) once every queued chunk has left.
 */
import { performance } from 'node:perf_hooks';

export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/**
 * Bytes the receiving socket may hold in user space before the line waits for its 'drain'. A socket's own
 * highWaterMark (16 KiB) would make every 64 KiB chunk a wait, i.e. an event-loop turn per chunk.
 */
const WRITE_BUDGET_BYTES = 4 * 1024 * 1024;

export class DelayLine {
  /**
   * @param {import('node:net').Socket} from
   * @param {import('node:net').Socket} to
   * @param {{ delayMs: number, maxQueuedBytes?: number }} options
   */
  constructor(from, to, { delayMs, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES }) {
    this.from = from;
    this.to = to;
    this.delayMs = delayMs;
    this.maxQueuedBytes = maxQueuedBytes;
    /** chunks waiting, oldest first, from index `head` on (shifting an array per chunk is O(n)) */
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.peakQueuedBytes = 0;
    this.bytes = 0;
    /** times reading paused because the line held maxQueuedBytes */
    this.fullPauses = 0;
    this.timer = undefined;
    this.waitingForDrain = false;
    this.pausedFull = false;
    this.ended = false;
    from.on('data', (chunk) => this.arrive(chunk));
    from.once('end', () => {
      this.ended = true;
      this.drain();
    });
  }

  arrive(chunk) {
    this.bytes += chunk.length;
    if (this.delayMs === 0 && this.head === this.queue.length && !this.waitingForDrain) {
      if (!this.write(chunk)) this.waitForDrain();
      return;
    }
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    this.queuedBytes += chunk.length;
    this.peakQueuedBytes = Math.max(this.peakQueuedBytes, this.queuedBytes);
    if (this.queuedBytes >= this.maxQueuedBytes && !this.pausedFull) {
      this.pausedFull = true;
      this.fullPauses += 1;
      this.from.pause();
    }
    this.arm();
  }

  arm() {
    if (this.timer !== undefined || this.waitingForDrain || this.head === this.queue.length) return;
    const wait = Math.max(0, this.queue[this.head].due - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.ceil(wait));
  }

  drain() {
    if (this.to.destroyed) return;
    const now = performance.now();
    const { queue } = this;
    if (this.head < queue.length && queue[this.head].due <= now) {
      this.to.cork();
      let writable = true;
      while (writable && this.head < queue.length && queue[this.head].due <= now) {
        const { chunk } = queue[this.head];
        queue[this.head++] = undefined;
        this.queuedBytes -= chunk.length;
        writable = this.write(chunk);
      }
      this.to.uncork();
      if (!writable) this.waitForDrain();
      if (this.head > 1024 && this.head * 2 > queue.length) {
        queue.splice(0, this.head);
        this.head = 0;
      }
    }
    if (this.pausedFull && this.queuedBytes <= this.maxQueuedBytes / 2) {
      this.pausedFull = false;
      this.from.resume();
    }
    if (this.ended && this.head === queue.length && !this.waitingForDrain) {
      this.to.end();
      return;
    }
    this.arm();
  }

  /** Writes to `to`; false once it holds more than WRITE_BUDGET_BYTES unsent. */
  write(chunk) {
    this.to.write(chunk);
    return this.to.writableLength < WRITE_BUDGET_BYTES;
  }

  /** `to` is backed up: chunks keep queueing (up to maxQueuedBytes) and leave once it drains. */
  waitForDrain() {
    this.waitingForDrain = true;
    this.clearTimer();
    this.to.once('drain', () => {
      this.waitingForDrain = false;
      this.drain();
    });
  }

  clearTimer() {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Drops what is queued (the connection is torn down); `from` closing on its own is not the end of the line. */
  discard() {
    this.clearTimer();
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  stats() {
    return {
      bytes: this.bytes,
      peakQueuedBytes: this.peakQueuedBytes,
      fullPauses: this.fullPauses,
    };
  }
}
