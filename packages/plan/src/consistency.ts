import { z } from 'zod';

/**
 * The continuous consistency monitor of a plan (off unless `enabled`): during the live stream each shard's worker
 * walks its source node's keys at `keysPerSecond`, compares each with the target (type, value, TTL within
 * `ttlToleranceMs`), and confirms a difference only once the shard has applied everything the source held when the
 * key was read, with the key unchanged on the source meanwhile (so keys in flight are never reported).
 */
export const consistencySchema = z.strictObject({
  /** @defaultValue false */
  enabled: z.boolean().optional(),
  /** keys compared per second per shard: the monitor's load on the source and target. @defaultValue 20 */
  keysPerSecond: z.number().positive().max(10_000).optional(),
  /** largest accepted difference of the two remaining TTLs, in ms. @defaultValue 5000 */
  ttlToleranceMs: z.number().int().min(0).optional(),
  /** mismatched keys listed per shard (the count is always exact). @defaultValue 20 */
  maxListed: z.number().int().min(0).max(1000).optional(),
});

export type ConsistencySpec = z.infer<typeof consistencySchema>;

/** The monitor's defaults, in one place. */
export const CONSISTENCY_DEFAULTS = { keysPerSecond: 20, ttlToleranceMs: 5000, maxListed: 20 } as const;

/** One key found different, confirmed. */
export interface ConsistencyMismatch {
  /** UTF-8 when it round-trips, else `base64:<...>` */
  key: string;
  db: number;
  kind: 'missing' | 'extra' | 'type' | 'value' | 'ttl';
  /** unix ms it was confirmed */
  at: number;
}

/** What a shard's monitor reports with its job progress. */
export interface ConsistencyReport {
  /** keys compared since the monitor started */
  checked: number;
  /** keys that differed at first and agreed once the shard caught up (writes in flight) */
  inFlight: number;
  /** keys that kept changing on the source while being confirmed: not judged */
  unsettled: number;
  /** keys known to differ now (a listed key that later agrees is removed) */
  mismatches: number;
  /** the first `maxListed` of them */
  listed: ConsistencyMismatch[];
  /** full passes over the shard's keys */
  passes: number;
  /** why the monitor is not checking, when it is not (e.g. a link to the source or target failed) */
  error?: string;
}
