/** One sample of a shard, as its worker last reported it when the coordinator looked. */
export interface LagSample {
  /** unix ms the coordinator took the sample */
  at: number;
  lagBytes: number;
  lagMs: number;
  opsPerSecond: number;
  /** bytes of the replication stream; -1 before the first report */
  sourceOffset: number;
  acknowledgedOffset: number;
}

export interface LagHistoryOptions {
  /**
   * How far back samples are kept.
   * @defaultValue 3600000 (one hour)
   */
  windowMs?: number;
  /**
   * The sampling interval the ring is sized for: it holds `windowMs / intervalMs` samples per shard (at most
   * {@link MAX_SAMPLES_PER_SHARD}).
   * @defaultValue 5000
   */
  intervalMs?: number;
}

export const DEFAULT_HISTORY_WINDOW_MS = 3_600_000;
export const DEFAULT_HISTORY_INTERVAL_MS = 5_000;
/** Whatever the interval, a shard's ring never grows past this many samples. */
export const MAX_SAMPLES_PER_SHARD = 1_440;

/** A fixed-size ring of one shard's samples, oldest overwritten first. */
class SampleRing {
  readonly #slots: Array<LagSample | undefined>;
  #next = 0;

  constructor(capacity: number) {
    this.#slots = new Array<LagSample | undefined>(capacity);
  }

  push(sample: LagSample): void {
    this.#slots[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#slots.length;
  }

  /** Samples taken after `since` (unix ms), oldest first. */
  after(since: number): LagSample[] {
    const ordered = [...this.#slots.slice(this.#next), ...this.#slots.slice(0, this.#next)];
    return ordered.filter((sample): sample is LagSample => sample !== undefined && sample.at > since);
  }
}

/**
 * The last hour of every shard's lag, in the coordinator's memory only: bounded per shard, and empty again after
 * the coordinator restarts. The dashboard's chart reads it so that a page opened late still shows the hour.
 */
export class LagHistory {
  readonly windowMs: number;
  readonly #capacity: number;
  /** planId → shardId → ring */
  readonly #plans = new Map<string, Map<string, SampleRing>>();

  constructor(options: LagHistoryOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_HISTORY_WINDOW_MS;
    const intervalMs = Math.max(1, options.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS);
    this.#capacity = Math.min(MAX_SAMPLES_PER_SHARD, Math.ceil(this.windowMs / intervalMs) + 1);
  }

  record(planId: string, shardId: string, sample: LagSample): void {
    let shards = this.#plans.get(planId);
    if (!shards) this.#plans.set(planId, (shards = new Map()));
    let ring = shards.get(shardId);
    if (!ring) shards.set(shardId, (ring = new SampleRing(this.#capacity)));
    ring.push(sample);
  }

  /**
   * The plan's samples per shard within the window and after `since` (unix ms, exclusive), oldest first.
   * `now` bounds the window: samples older than `now - windowMs` are left out even if the ring still holds them.
   */
  forPlan(planId: string, since = 0, now = Date.now()): Record<string, LagSample[]> {
    const from = Math.max(since, now - this.windowMs);
    const shards = this.#plans.get(planId);
    if (!shards) return {};
    return Object.fromEntries([...shards].map(([shardId, ring]) => [shardId, ring.after(from)]));
  }

  /** Drops the history of every plan not in `planIds` (deleted plans), and of shards a plan no longer has. */
  retain(planIds: Map<string, Set<string>>): void {
    for (const [planId, shards] of this.#plans) {
      const kept = planIds.get(planId);
      if (!kept) {
        this.#plans.delete(planId);
        continue;
      }
      for (const shardId of shards.keys()) if (!kept.has(shardId)) shards.delete(shardId);
    }
  }
}
