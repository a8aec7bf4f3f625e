import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  CONSISTENCY_DEFAULTS,
  type ConsistencyMismatch,
  type ConsistencyReport,
  type ShardJobData,
} from '@shardbridge/plan';
import { CommandRules } from '../filter/command-rules.js';
import type { SecretResolver } from '../queue/sync-options-from-job.js';
import { printableKey, redisVersion, text, type DbClient } from '../verify/db-client.js';
import { compareKey, type KeyVerdict } from '../verify/key-compare.js';
import { openShardReaders, type ShardReaders } from '../verify/shard-readers.js';
import { KeyWalker } from './key-walker.js';

export interface ConsistencyMonitorOptions {
  /** the shard's job data: the monitor reads the same source node and target as the sync, and its settings */
  data: ShardJobData;
  logger: Logger;
  /** @defaultValue the plan package's `resolveSecret` */
  resolveSecret?: SecretResolver;
  /**
   * Where the shard's sync stands: its acknowledged offset (the source offset whose effects the target confirmed)
   * and whether it is in the live stream (the monitor checks only then).
   */
  position: () => { acknowledgedOffset: number; live: boolean };
  /** how long a confirmation waits for the shard to apply what the source held. @defaultValue 30000 */
  settleTimeoutMs?: number;
  /** pause before opening the links again after one failed. @defaultValue 5000 */
  retryDelayMs?: number;
}

/** Values read twice within this size are compared by their DUMP payload to tell whether the key changed. */
const FINGERPRINT_MAX_BYTES = 1024 * 1024;
/** Confirmations (key unchanged on the source, still different on the target) before a mismatch is reported. */
const CONFIRMATIONS = 2;
/** Rounds of confirmation a key gets before it is counted as unsettled. */
const MAX_ROUNDS = 4;

type Judgement = 'same' | 'in-flight' | 'unsettled' | KeyVerdict;

/**
 * The continuous consistency monitor of one shard (see ConsistencySpec): walks the source node's keys at the
 * plan's rate and compares each with the target. A difference is only reported once it survives the shard's lag:
 * the source's replication offset M is read, the monitor waits until the shard has applied up to M, compares
 * again, and reads the key's source value before and after. A key that agrees then was in flight; one that changed
 * on the source meanwhile is judged again later; one unchanged on the source and still different on the target,
 * twice, is a mismatch. Its load: about `keysPerSecond` × (TYPE, PTTL, MEMORY USAGE, DUMP) on both sides, plus
 * the confirmation reads of the rare key that differs.
 */
export class ConsistencyMonitor {
  private readonly state: ConsistencyReport = {
    checked: 0,
    inFlight: 0,
    unsettled: 0,
    mismatches: 0,
    listed: [],
    passes: 0,
  };
  private readonly mismatched = new Map<string, ConsistencyMismatch>();
  private readonly stopping = new AbortController();
  private readonly rules: CommandRules | null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: ConsistencyMonitorOptions) {
    this.rules = options.data.filter ? new CommandRules(options.data.filter) : null;
  }

  /** The findings so far (a copy). */
  get report(): ConsistencyReport {
    const maxListed = this.options.data.consistency?.maxListed ?? CONSISTENCY_DEFAULTS.maxListed;
    return {
      ...this.state,
      mismatches: this.mismatched.size,
      listed: [...this.mismatched.values()].slice(0, maxListed),
    };
  }

  /** Starts the walk in the background; {@link stop} ends it. */
  start(): void {
    this.running ??= this.loop().catch((error: Error) => {
      this.options.logger.warn({ err: error.message }, 'consistency monitor ended');
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async loop(): Promise<void> {
    const { data, logger } = this.options;
    while (!this.stopped) {
      let readers: ShardReaders | null = null;
      let lost: Error | null = null;
      try {
        readers = await openShardReaders(
          data,
          { logger, resolveSecret: this.options.resolveSecret, name: 'consistency' },
          (error) => (lost ??= error),
        );
        const sameVersion =
          (await redisVersion(readers.source)) ===
          (await redisVersion(readers.target.nodeForSlot(data.slots[0]?.[0] ?? 0)!));
        delete this.state.error;
        await this.walk(readers, sameVersion, () => lost);
      } catch (error) {
        if (this.stopped) break;
        this.state.error = `shard ${data.shardId}: ${(lost ?? (error as Error)).message}`;
        logger.warn({ err: this.state.error }, 'consistency monitor paused');
        await this.pause(this.options.retryDelayMs ?? 5000);
      } finally {
        readers?.close();
      }
    }
  }

  private async walk(readers: ShardReaders, sameVersion: boolean, lost: () => Error | null): Promise<void> {
    const settings = this.options.data.consistency ?? {};
    const intervalMs = 1000 / (settings.keysPerSecond ?? CONSISTENCY_DEFAULTS.keysPerSecond);
    const walker = new KeyWalker(readers.source, this.options.data.nodeId !== null);
    while (!this.stopped) {
      const failure = lost();
      if (failure) throw failure;
      if (!this.options.position().live) {
        await this.pause(500);
        continue;
      }
      const started = Date.now();
      const next = await walker.next();
      if (next === 'pass-done') {
        this.state.passes++;
      } else if (next) {
        await this.checkKey(readers, sameVersion, next.db, next.key);
      }
      await this.pause(intervalMs - (Date.now() - started));
    }
  }

  private async checkKey(
    readers: ShardReaders,
    sameVersion: boolean,
    db: number,
    key: Buffer,
  ): Promise<void> {
    const targetDb = this.rules ? this.rules.restoreDb(db, key) : db;
    if (targetDb === null) return;
    const id = `${db}:${printableKey(key)}`;
    const judgement = await this.judge(readers, sameVersion, db, targetDb, key);
    this.state.checked++;
    if (judgement === 'same' || judgement === 'in-flight') {
      if (judgement === 'in-flight') this.state.inFlight++;
      this.mismatched.delete(id);
    } else if (judgement === 'unsettled') {
      this.state.unsettled++;
    } else if (!this.mismatched.has(id)) {
      this.mismatched.set(id, { key: printableKey(key), db, kind: judgement.kind, at: Date.now() });
      this.options.logger.warn(
        { key: printableKey(key), db, kind: judgement.kind, detail: judgement.detail },
        'consistency monitor: the target differs from the source',
      );
    }
  }

  private async judge(
    readers: ShardReaders,
    sameVersion: boolean,
    db: number,
    targetDb: number,
    key: Buffer,
  ): Promise<Judgement> {
    const ttlToleranceMs =
      this.options.data.consistency?.ttlToleranceMs ?? CONSISTENCY_DEFAULTS.ttlToleranceMs;
    const node = readers.target.nodeFor(key);
    if (!node) throw new Error('no target master serves the key’s slot');
    const compare = () =>
      compareKey({ node: readers.source, db }, { node, db: targetDb }, key, {
        ttlToleranceMs,
        bigKeyBytes: FINGERPRINT_MAX_BYTES,
        sameVersion,
      });
    if (!(await compare())) return 'same';
    let confirmations = 0;
    for (let round = 0; round < MAX_ROUNDS && !this.stopped; round++) {
      const before = await fingerprint(readers.source, db, key);
      const offset = await masterOffset(readers.source);
      if (!(await this.appliedUpTo(offset))) return 'unsettled';
      const verdict = await compare();
      if (!verdict) return 'in-flight';
      const after = await fingerprint(readers.source, db, key);
      // Changed on the source while being judged: what the target shows may be a later write. Look again.
      if (before === null || after === null || !before.equals(after)) continue;
      if (++confirmations >= CONFIRMATIONS) return verdict;
    }
    return 'unsettled';
  }

  /** Waits until the shard acknowledged `offset`; false when it did not within the settle timeout. */
  private async appliedUpTo(offset: number): Promise<boolean> {
    const deadline = Date.now() + (this.options.settleTimeoutMs ?? 30_000);
    while (!this.stopped && Date.now() < deadline) {
      const { acknowledgedOffset, live } = this.options.position();
      if (live && acknowledgedOffset >= offset) return true;
      await this.pause(50);
    }
    return false;
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return;
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}

/** The key's source value as a DUMP payload (`none` for no key); null when the key is too big to read twice. */
async function fingerprint(source: DbClient, db: number, key: Buffer): Promise<Buffer | null> {
  const bytes = Number((await source.call(db, 'MEMORY', 'USAGE', key, 'SAMPLES', '5')) ?? 0);
  if (bytes > FINGERPRINT_MAX_BYTES) return null;
  const payload = (await source.call(db, 'DUMP', key)) as Buffer | null;
  return payload ?? Buffer.from('none');
}

/** The node's replication offset (`master_repl_offset`): what the shard must have applied to reflect it. */
async function masterOffset(source: DbClient): Promise<number> {
  const info = text(await source.call(0, 'INFO', 'replication'));
  return Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1] ?? 0);
}
