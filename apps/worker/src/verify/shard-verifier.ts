import type { Logger } from 'pino';
import {
  emptyTotals,
  isDbAllowed,
  mappedDb,
  type DbCount,
  type KeyDifference,
  type ShardJobData,
  type ShardVerification,
  type ShardVerifyProgress,
  type SyncFilterSpec,
  type VerifySettings,
} from '@shardbridge/plan';
import { CommandRules } from '../filter/command-rules.js';
import type { SecretResolver } from '../queue/sync-options-from-job.js';
import { TargetKeys } from '../scan/target-keys.js';
import { keyspaceDbs, printableKey, redisVersion, type DbClient } from './db-client.js';
import { compareKey, type KeyVerdict } from './key-compare.js';
import { keyCounts } from './key-counts.js';
import { mapWithLimit, recheckRounds, type Suspect } from './recheck-rounds.js';
import { openShardReaders, type ShardReaders } from './shard-readers.js';
import { TargetReader } from './target-reader.js';
import { VerifyError } from './verify-errors.js';

export interface ShardVerifierOptions {
  /** the shard's sync job data: the same NAT, TLS and secret mapping as its sync */
  data: ShardJobData;
  settings: VerifySettings;
  logger: Logger;
  /** @defaultValue the plan package's `resolveSecret` */
  resolveSecret?: SecretResolver;
  /** keys compared at once per shard. @defaultValue 16 */
  concurrency?: number;
  /** SCAN COUNT hint. @defaultValue 500 */
  scanCount?: number;
  /** told after every batch of keys (throttling is the caller's). @defaultValue none */
  onProgress?: (progress: ShardVerifyProgress) => void;
}

/**
 * Verifies one shard: reads its source master (SCAN of that node = the shard's keys) and the target (through the
 * target's routing), compares at the plan's level and re-checks what differs in rounds. Never throws: a shard that
 * cannot be verified is returned with status `error` and a message naming the node and the fix.
 */
export async function verifyShard(options: ShardVerifierOptions): Promise<ShardVerification> {
  const startedAt = Date.now();
  const { data } = options;
  const result: ShardVerification = {
    shardId: data.shardId,
    status: 'clean',
    keysCompared: 0,
    targetKeysChecked: 0,
    counts: [],
    totals: emptyTotals(),
    differences: [],
    roundsRun: 0,
    transient: 0,
    versions: { source: '', target: '' },
    startedAt,
    finishedAt: startedAt,
  };
  let readers: ShardReaders | null = null;
  try {
    let lost: Error | null = null;
    readers = await openShardReaders(
      data,
      { logger: options.logger, resolveSecret: options.resolveSecret, name: 'verify' },
      (error) => (lost ??= error),
    );
    const run = new ShardRun(options, result, readers.source, readers.target, readers.targetOptions);
    await run.execute();
    if (lost) throw lost;
  } catch (error) {
    result.status = 'error';
    result.error = {
      code: (error as { code?: string }).code ?? 'VERIFY_READ_FAILED',
      message: `shard ${data.shardId}: ${(error as Error).message}`,
    };
    options.logger.warn({ shard: data.shardId, err: (error as Error).message }, 'shard verification failed');
  } finally {
    readers?.close();
  }
  result.finishedAt = Date.now();
  return result;
}

/** The state of one shard's verification while it runs. */
class ShardRun {
  private readonly rules: CommandRules | null;
  private readonly concurrency: number;
  private readonly suspects: Suspect[] = [];
  private stage: ShardVerifyProgress['stage'] = 'source';

  constructor(
    private readonly options: ShardVerifierOptions,
    private readonly result: ShardVerification,
    private readonly source: DbClient,
    private readonly target: TargetReader,
    private readonly targetOptions: Parameters<typeof TargetReader.open>[0],
  ) {
    this.rules = options.data.filter ? new CommandRules(options.data.filter) : null;
    this.concurrency = options.concurrency ?? 16;
  }

  async execute(): Promise<void> {
    const { settings, data } = this.options;
    const targetNode = this.target.nodeForSlot(data.slots[0]?.[0] ?? 0);
    if (!targetNode)
      throw new VerifyError('VERIFY_TARGET_UNREACHABLE', 'no target master serves the shard’s slots');
    this.result.versions = {
      source: await redisVersion(this.source),
      target: await redisVersion(targetNode),
    };
    const dbs = data.nodeId !== null ? [0] : await keyspaceDbs(this.source);
    if (settings.level === 'count') {
      this.stage = 'counts';
      this.report();
      return this.countLevel(dbs);
    }
    if (settings.level === 'sample') await this.sampleLevel(dbs);
    else await this.fullLevel(dbs);
    this.stage = 'rounds';
    this.report();
    const { remaining, roundsRun } = await recheckRounds(this.suspects, {
      rounds: settings.rounds,
      delayMs: settings.roundDelayMs,
      concurrency: this.concurrency,
      compare: (db, key) => this.compare(db, key),
    });
    this.result.roundsRun = roundsRun;
    this.result.transient = this.suspects.length - remaining.length;
    for (const suspect of remaining) this.record(suspect);
    this.result.status = remaining.length > 0 ? 'differences' : 'clean';
  }

  private async countLevel(dbs: number[]): Promise<void> {
    const { settings, data } = this.options;
    const context = {
      source: this.source,
      target: this.target,
      targetOptions: this.targetOptions,
      slots: data.slots,
      clusterSource: data.nodeId !== null,
      wholeKeyspace: data.slots.length === 1 && data.slots[0][0] === 0 && data.slots[0][1] === 16383,
      targetDb: (db: number) => targetDbOf(data.filter, db),
    };
    let counts: DbCount[] = await keyCounts(context, dbs);
    let rounds = 1;
    while (counts.some((count) => count.source !== count.target) && rounds < settings.rounds) {
      await new Promise((resolve) => setTimeout(resolve, settings.roundDelayMs));
      counts = await keyCounts(context, dbs);
      rounds++;
    }
    this.result.counts = counts;
    this.result.roundsRun = rounds;
    this.result.keysCompared = counts.reduce((sum, count) => sum + count.source, 0);
    this.result.status = counts.some((count) => count.source !== count.target) ? 'differences' : 'clean';
  }

  /** `sampleSize` random keys of the shard, spread over its dbs by their sizes. */
  private async sampleLevel(dbs: number[]): Promise<void> {
    const sizes = await Promise.all(dbs.map(async (db) => Number(await this.source.call(db, 'DBSIZE'))));
    const total = sizes.reduce((sum, size) => sum + size, 0);
    for (const [index, db] of dbs.entries()) {
      if (sizes[index] === 0) continue;
      const wanted = Math.min(
        sizes[index],
        Math.ceil((this.options.settings.sampleSize * sizes[index]) / total),
      );
      const picked = new Map<string, Buffer>();
      // RANDOMKEY repeats keys: a bounded number of draws, so a tiny db cannot loop for long.
      for (let draw = 0; draw < wanted * 3 && picked.size < wanted; draw++) {
        const key = (await this.source.call(db, 'RANDOMKEY')) as Buffer | null;
        if (key) picked.set(key.toString('base64'), key);
      }
      await this.firstPass(db, [...picked.values()]);
    }
  }

  /** Every source key of the shard, then every target key of its slots that the source lacks. */
  private async fullLevel(dbs: number[]): Promise<void> {
    const count = this.options.scanCount ?? 500;
    for (const db of dbs) {
      let cursor = '0';
      do {
        const [next, keys] = (await this.source.call(db, 'SCAN', cursor, 'COUNT', count)) as [
          Buffer,
          Buffer[],
        ];
        cursor = next.toString('latin1');
        await this.firstPass(db, keys);
      } while (cursor !== '0');
    }
    await this.extras();
  }

  private async extras(): Promise<void> {
    const { data } = this.options;
    this.stage = 'extras';
    let lost: Error | null = null;
    const listing = await TargetKeys.open(this.targetOptions, data.slots, (error) => (lost = error));
    try {
      for await (const batch of listing.batches(this.options.scanCount ?? 500)) {
        const db = sourceDbOf(data.filter, batch.db);
        // A target db no db of this shard is synced into (other plans' data, or any db but 0 beside a cluster
        // source, which has only db 0) is not this plan's to judge.
        if (db === null || (data.nodeId !== null && db !== 0)) continue;
        const synced = batch.keys.filter((key) => !this.rules || this.rules.restoreDb(db, key) !== null);
        this.result.targetKeysChecked += synced.length;
        const exists = await Promise.all(synced.map((key) => this.source.call(db, 'EXISTS', key)));
        const absent = synced.filter((_, index) => Number(exists[index]) === 0);
        await this.firstPass(db, absent, false);
      }
      if (lost) throw lost;
    } finally {
      listing.close();
    }
  }

  private async firstPass(db: number, keys: Buffer[], count = true): Promise<void> {
    const verdicts = await mapWithLimit(keys, this.concurrency, (key) => this.compare(db, key));
    if (count) this.result.keysCompared += keys.length;
    for (const [index, verdict] of verdicts.entries()) {
      if (verdict) this.suspects.push({ db, key: keys[index], verdict });
    }
    this.report();
  }

  private report(): void {
    this.options.onProgress?.({
      shardId: this.options.data.shardId,
      stage: this.stage,
      keysCompared: this.result.keysCompared,
      targetKeysChecked: this.result.targetKeysChecked,
      suspects: this.suspects.length,
    });
  }

  /** One key of source db `db` against its place on the target; null when they agree or the filter skips it. */
  private async compare(db: number, key: Buffer): Promise<KeyVerdict | null> {
    const targetDb = this.rules ? this.rules.restoreDb(db, key) : db;
    if (targetDb === null) return null;
    const node = this.target.nodeFor(key);
    if (!node) throw new VerifyError('VERIFY_TARGET_UNREACHABLE', 'no target master serves the key’s slot');
    const { settings } = this.options;
    return compareKey({ node: this.source, db }, { node, db: targetDb }, key, {
      ttlToleranceMs: settings.ttlToleranceMs,
      bigKeyBytes: settings.bigKeyBytes,
      sameVersion: this.result.versions.source === this.result.versions.target,
    });
  }

  private record(suspect: Suspect): void {
    const { verdict } = suspect;
    this.result.totals[verdict.kind]++;
    if (this.result.differences.length >= this.options.settings.maxDifferences) return;
    const difference: KeyDifference = {
      key: printableKey(suspect.key),
      db: suspect.db,
      shard: this.options.data.shardId,
      kind: verdict.kind,
      source: verdict.source,
      target: verdict.target,
      ...(verdict.detail ? { detail: verdict.detail } : {}),
    };
    this.result.differences.push(difference);
  }
}

function targetDbOf(filter: SyncFilterSpec | undefined, db: number): number | null {
  return isDbAllowed(filter, db) ? mappedDb(filter, db) : null;
}

/**
 * The source db whose keys land in target db `db`, or null when none or several do (then a target key cannot be
 * traced to one source db, and extras in that db are not looked for).
 */
function sourceDbOf(filter: SyncFilterSpec | undefined, db: number): number | null {
  const candidates = Object.entries(filter?.dbMap ?? {})
    .filter(([, target]) => target === db)
    .map(([source]) => Number(source));
  if (filter?.dbMap?.[String(db)] === undefined) candidates.push(db);
  const synced = candidates.filter((source) => isDbAllowed(filter, source));
  return synced.length === 1 ? synced[0] : null;
}
