import { SLOT_COUNT, type DiscoveredShard, type ShardRecord, type TopologyEvent } from '@shardbridge/plan';

/** What re-planning makes of a fresh view of the source's masters. */
export interface TopologyChange {
  /** every shard record, updated (slots, the master after a failover, drained/added marks), in id order */
  shards: ShardRecord[];
  /** records new in `shards`: a master serves slots no shard covered (scale-out); each needs a job */
  added: ShardRecord[];
  /** records whose slots or master changed (their jobs' data should follow) */
  updated: ShardRecord[];
  events: TopologyEvent[];
}

/**
 * Compares the plan's shard records with the masters the source has now and says what changed. A master is the
 * same shard when its node id is the record's; a master with a new node id that serves slots of a record whose node
 * is no longer a master (not listed, and not answering `role:master` — see `stillMasters`) took that shard over (a failover: the shard's worker follows it by itself, it is never a
 * new shard); any other master with slots is a new shard. A record whose master serves no slot any more is
 * drained (its job keeps running: its stream stays empty but for what is still in flight).
 *
 * `newShardId(n)` names the n-th added shard (0-based), so ids stay `<planId>-<index>` in creation order.
 * `stillMasters` holds the ids of records whose node is not listed (it serves no slot) but still says it is a
 * master: emptied by resharding, not failed over. The topology lists slot-less masters nowhere, so the caller asks.
 */
export function diffTopology(
  records: readonly ShardRecord[],
  masters: readonly DiscoveredShard[],
  now: number,
  newShardId: (n: number) => string,
  stillMasters: ReadonlySet<string> = new Set(),
): TopologyChange {
  const served = new Map<string, DiscoveredShard>();
  const masterIds = new Set(masters.map((master) => master.nodeId));
  const unmatched: DiscoveredShard[] = [];
  for (const master of masters) {
    const record = records.find(
      (candidate) => candidate.nodeId !== null && candidate.nodeId === master.nodeId,
    );
    if (record) served.set(record.id, master);
    else unmatched.push(master);
  }
  const failedOver = new Set<string>();
  const newMasters: DiscoveredShard[] = [];
  for (const master of unmatched) {
    // A failover: the old node is no longer a master and the new one serves (part of) the record's slots.
    let best: { record: ShardRecord; overlap: number } | null = null;
    for (const record of records) {
      if (served.has(record.id) || masterIds.has(record.nodeId) || stillMasters.has(record.id)) continue;
      const overlap = overlapCount(record.slots, master.slots);
      if (overlap > 0 && (!best || overlap > best.overlap)) best = { record, overlap };
    }
    if (best) {
      served.set(best.record.id, master);
      failedOver.add(best.record.id);
    } else newMasters.push(master);
  }

  const shards: ShardRecord[] = [];
  const updated: ShardRecord[] = [];
  const events: TopologyEvent[] = [];
  for (const record of records) {
    const master = served.get(record.id);
    const slots = master ? master.slots.map(([a, b]): [number, number] => [a, b]) : [];
    const next: ShardRecord = { ...record, slots };
    if (master && failedOver.has(record.id)) {
      next.nodeId = master.nodeId;
      next.announced = master.announced;
      next.reachable = master.reachable;
    }
    if (slots.length > 0) delete next.drainedAt;
    else if (record.slots.length > 0 || record.drainedAt === undefined) {
      next.drainedAt = now;
      events.push({ at: now, kind: 'shard-drained', from: record.id, slots: record.slots });
    }
    if (failedOver.has(record.id) || !sameSlots(record.slots, slots) || next.drainedAt !== record.drainedAt) {
      updated.push(next);
    }
    shards.push(next);
  }
  const added = newMasters.map((master, n): ShardRecord => ({
    id: newShardId(n),
    nodeId: master.nodeId,
    slots: master.slots.map(([a, b]): [number, number] => [a, b]),
    announced: master.announced,
    reachable: master.reachable,
    jobId: newShardId(n),
    addedAt: now,
  }));
  shards.push(...added);
  events.unshift(...movedSlots(records, shards, now));
  for (const shard of added) events.push({ at: now, kind: 'shard-added', to: shard.id, slots: shard.slots });
  return { shards, added, updated, events };
}

/** `slots-moved` events: slots whose serving shard changed, grouped by (from, to) into inclusive ranges. */
function movedSlots(
  before: readonly ShardRecord[],
  after: readonly ShardRecord[],
  at: number,
): TopologyEvent[] {
  const owners = (records: readonly ShardRecord[]) => {
    const owner = new Array<string | undefined>(SLOT_COUNT);
    for (const record of records) for (const [a, b] of record.slots) owner.fill(record.id, a, b + 1);
    return owner;
  };
  const was = owners(before);
  const is = owners(after);
  const byPair = new Map<string, TopologyEvent>();
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const from = was[slot];
    const to = is[slot];
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}\n${to}`;
    let event = byPair.get(key);
    if (!event) byPair.set(key, (event = { at, kind: 'slots-moved', from, to, slots: [] }));
    const last = event.slots.at(-1);
    if (last && last[1] === slot - 1) last[1] = slot;
    else event.slots.push([slot, slot]);
  }
  return [...byPair.values()];
}

function overlapCount(
  a: ReadonlyArray<readonly [number, number]>,
  b: ReadonlyArray<readonly [number, number]>,
) {
  let count = 0;
  for (const [a1, a2] of a)
    for (const [b1, b2] of b) count += Math.max(0, Math.min(a2, b2) - Math.max(a1, b1) + 1);
  return count;
}

function sameSlots(a: ReadonlyArray<readonly [number, number]>, b: ReadonlyArray<readonly [number, number]>) {
  return (
    a.length === b.length && a.every(([first, last], index) => first === b[index][0] && last === b[index][1])
  );
}
