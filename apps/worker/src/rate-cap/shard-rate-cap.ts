import { performance } from 'node:perf_hooks';
import { NO_CAPS, type ShardCaps, type ShardRateCapState } from '@shardbridge/plan';
import { TokenBucket } from './token-bucket.js';

/** A shard released by its cap this recently still counts as throttled (see `state`). */
const THROTTLED_HOLD_MS = 1000;

export interface ShardRateCapOptions {
  /** hold the source back: called on every take that leaves a debt (must be idempotent) */
  pause: () => void;
  /** the debt is paid: read the source again (before any listener added with `onRelease`) */
  resume: () => void;
  /**
   * Seconds of the cap that may pass at once after an idle spell. Small, so the cap holds over short windows too.
   * @defaultValue 0.1
   */
  burstSeconds?: number;
  /** monotonic ms. @defaultValue performance.now */
  now?: () => number;
}

/**
 * A shard's caps on ops/s and bytes/s, applied between the source stream and the target writer. Every key restored,
 * command handed to the writer and stream byte read is charged; a charge that leaves a debt holds the source back
 * (`pause`) until the debt is paid, so back-pressure reaches the source socket and the source buffers the rest in
 * its replica output buffer. Caps change at any time (`setCaps`) without touching the link.
 */
export class ShardRateCap {
  private caps: ShardCaps = { ...NO_CAPS };
  private ops: TokenBucket | null = null;
  private bytes: TokenBucket | null = null;
  private readonly now: () => number;
  private readonly burstSeconds: number;
  private readonly releaseListeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private throttledSince: number | null = null;
  private releasedAt: number | null = null;
  private throttledTotalMs = 0;

  constructor(private readonly options: ShardRateCapOptions) {
    this.now = options.now ?? (() => performance.now());
    this.burstSeconds = options.burstSeconds ?? 0.1;
  }

  /**
   * What progress reports: the caps in force, whether the cap holds the shard back (waiting now, or released less
   * than a second ago: a capped stream alternates between the two many times a second), and for how long it
   * waited in all.
   */
  get state(): ShardRateCapState {
    const now = this.now();
    const waiting = this.throttledSince === null ? 0 : now - this.throttledSince;
    const recently = this.releasedAt !== null && now - this.releasedAt < THROTTLED_HOLD_MS;
    return {
      ...this.caps,
      throttled: this.active && (this.throttledSince !== null || recently),
      throttledMs: Math.round(this.throttledTotalMs + waiting),
    };
  }

  /** Whether any cap is set. */
  get active(): boolean {
    return this.ops !== null || this.bytes !== null;
  }

  /** New caps from now on; a lifted or raised cap releases a held-back source at once. */
  setCaps(caps: ShardCaps): void {
    const at = this.now();
    this.ops = bucketFor(this.ops, caps.opsPerSecond, this.burstSeconds, at);
    this.bytes = bucketFor(this.bytes, caps.bytesPerSecond, this.burstSeconds, at);
    this.caps = { opsPerSecond: caps.opsPerSecond, bytesPerSecond: caps.bytesPerSecond };
    if (this.throttledSince !== null) this.schedule(0);
  }

  /**
   * Charges `ops` and `bytes` (already read: they are never refused). Returns false when the shard must hold back:
   * `pause` was called, and `resume` plus the release listeners follow once the debt is paid.
   */
  take(ops: number, bytes: number): boolean {
    if (!this.ops && !this.bytes) return true;
    const at = this.now();
    const wait = Math.max(this.ops?.take(ops, at) ?? 0, this.bytes?.take(bytes, at) ?? 0);
    if (wait === 0) return true;
    this.throttledSince ??= at;
    this.options.pause();
    if (!this.timer) this.schedule(wait);
    return false;
  }

  /** Called after `resume` whenever a held-back shard may read again; returns the function that removes it. */
  onRelease(listener: () => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  /** Stops the timer (the shard ended); a later take starts it again. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref();
  }

  private check(): void {
    this.timer = null;
    const at = this.now();
    const wait = Math.max(this.ops?.waitMs(at) ?? 0, this.bytes?.waitMs(at) ?? 0);
    if (wait > 0) return this.schedule(wait);
    if (this.throttledSince !== null) this.throttledTotalMs += at - this.throttledSince;
    this.throttledSince = null;
    this.releasedAt = at;
    this.options.resume();
    for (const listener of [...this.releaseListeners]) listener();
  }
}

function bucketFor(
  bucket: TokenBucket | null,
  rate: number | null,
  burstSeconds: number,
  now: number,
): TokenBucket | null {
  if (rate === null || rate <= 0) return null;
  if (!bucket) return new TokenBucket(rate, burstSeconds, now);
  bucket.setRate(rate, now);
  return bucket;
}
