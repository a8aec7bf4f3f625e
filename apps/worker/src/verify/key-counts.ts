import type { DbCount } from '@shardbridge/plan';
import type { TargetWriterOptions } from '@shardbridge/target';
import { TargetKeys } from '../scan/target-keys.js';
import type { DbClient } from './db-client.js';
import type { TargetReader } from './target-reader.js';

export interface KeyCountContext {
  source: DbClient;
  target: TargetReader;
  targetOptions: TargetWriterOptions;
  /** the shard's slots */
  slots: Array<[number, number]>;
  /** the source is a cluster node: count by slot (CLUSTER COUNTKEYSINSLOT), never DBSIZE (a migrating slot's keys) */
  clusterSource: boolean;
  /** the shard covers every slot (a standalone source) */
  wholeKeyspace: boolean;
  /** source db → target db (the plan's dbMap), null when the filter leaves the db out */
  targetDb: (db: number) => number | null;
}

/**
 * Keys per db of one shard on both sides. A cluster side is counted per slot of the shard (pipelined CLUSTER
 * COUNTKEYSINSLOT), a standalone side by DBSIZE, except a standalone target fed by one shard of a cluster source,
 * whose keys of the shard's slots can only be counted by SCAN. With a key filter in the plan the target holds fewer
 * keys by design: counts are then a hint, the `full` level is the check.
 */
export async function keyCounts(context: KeyCountContext, dbs: number[]): Promise<DbCount[]> {
  const counts: DbCount[] = [];
  for (const db of dbs) {
    const targetDb = context.targetDb(db);
    if (targetDb === null) continue;
    const source = context.clusterSource
      ? await countBySlot(() => context.source, context.slots)
      : Number(await context.source.call(db, 'DBSIZE'));
    let target: number;
    if (context.target.isCluster) {
      target = await countBySlot((slot) => context.target.nodeForSlot(slot)!, context.slots);
    } else if (context.wholeKeyspace) {
      target = Number(await context.target.nodeForSlot(0)!.call(targetDb, 'DBSIZE'));
    } else {
      target = await countByScan(context, targetDb);
    }
    counts.push({ db, source, target });
  }
  return counts;
}

async function countBySlot(
  nodeOf: (slot: number) => DbClient,
  slots: Array<[number, number]>,
): Promise<number> {
  const replies: Array<Promise<unknown>> = [];
  for (const [first, last] of slots) {
    for (let slot = first; slot <= last; slot++) {
      replies.push(nodeOf(slot).call(0, 'CLUSTER', 'COUNTKEYSINSLOT', slot));
    }
  }
  return (await Promise.all(replies)).reduce<number>((sum, reply) => sum + Number(reply), 0);
}

async function countByScan(context: KeyCountContext, targetDb: number): Promise<number> {
  let lost: Error | null = null;
  const keys = await TargetKeys.open(context.targetOptions, context.slots, (error) => (lost = error));
  try {
    let count = 0;
    for await (const batch of keys.batches(1000)) if (batch.db === targetDb) count += batch.keys.length;
    if (lost) throw lost;
    return count;
  } finally {
    keys.close();
  }
}
