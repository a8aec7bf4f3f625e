/** Number of hash slots in a Redis Cluster; slots are 0..SLOT_COUNT-1. */
export const SLOT_COUNT = 16384;

/** Inclusive slot range `[first, last]`. */
export type SlotRange = [number, number];

/** Sorts ranges and merges overlapping or adjacent ones (`[0,5]`,`[6,9]` → `[0,9]`). Does not mutate input. */
export function mergeSlotRanges(ranges: ReadonlyArray<readonly [number, number]>): SlotRange[] {
  const sorted = ranges.map(([first, last]): SlotRange => [first, last]).sort((a, b) => a[0] - b[0]);
  const merged: SlotRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous && range[0] <= previous[1] + 1) previous[1] = Math.max(previous[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** Ranges of 0..SLOT_COUNT-1 that none of `ranges` covers, in order. */
export function missingSlotRanges(ranges: ReadonlyArray<readonly [number, number]>): SlotRange[] {
  const missing: SlotRange[] = [];
  let next = 0;
  for (const [first, last] of mergeSlotRanges(ranges)) {
    if (first > next) missing.push([next, Math.min(first, SLOT_COUNT) - 1]);
    next = Math.max(next, last + 1);
  }
  if (next < SLOT_COUNT) missing.push([next, SLOT_COUNT - 1]);
  return missing;
}

/** `0-5460,5462` — the notation CLUSTER NODES uses. */
export function formatSlotRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  if (ranges.length === 0) return '(no slots)';
  return ranges.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(',');
}
