import type { Logger } from 'pino';
import { RdbError, RdbParser, type RdbKeyRecord } from '@shardbridge/rdb';
import type { TargetMode } from '@shardbridge/plan';
import type { TargetWriter } from '@shardbridge/target';
import type { ShardFilter } from '../filter/shard-filter.js';
import type { RewritePolicy } from '../rewrite/rewrite-policy.js';
import { emptyRewriteCounters, RewritingKeyWriter } from '../rewrite/rewriting-key-writer.js';
import type { TargetCapabilities } from '../rewrite/target-capabilities.js';
import type { ShardProgress } from '../shard-progress.js';
import type { ShardRateCap } from '../rate-cap/shard-rate-cap.js';
import { ModuleValueError } from '../sync-errors.js';
import { SourceRdbError } from './source-rdb-error.js';

const RDB_TYPE_MODULE = 6;
const RDB_TYPE_MODULE_2 = 7;
const [FUNCTION, LOAD, REPLACE] = ['FUNCTION', 'LOAD', 'REPLACE'].map((word) => Buffer.from(word));

export interface RdbLoaderOptions {
  writer: TargetWriter;
  /** @defaultValue 'auto' */
  rewrite?: RewritePolicy;
  /** the target's version facts; null = unknown (keys are RESTOREd) */
  capabilities: TargetCapabilities | null;
  /** `skip-existing` keeps keys the target has; anything else replaces them. @defaultValue 'replace' */
  targetMode?: TargetMode;
  /** null = every key and function passes */
  filter: ShardFilter | null;
  /** the shard's counters: keysWritten, keysSkippedExpired, keyRewrite are updated here */
  progress: ShardProgress;
  /** see ShardSyncOptions.bigKeyThreshold */
  bigKeyThreshold?: number;
  /** the source as RDB errors name it */
  sourceLabel: string;
  logger: Logger;
  /** the target's in-flight window is full: stop reading the source until the writer drains */
  pauseSource: () => void;
  /** what parsing the buffered rest of the RDB threw when the writer drained (outside push/end) */
  onError: (error: Error) => void;
  /**
   * The shard's caps: each key written is one op; a key that leaves a debt pauses the parser (the cap itself holds
   * the source back) until the cap releases. The RDB's bytes are charged by the shard as they arrive.
   * @defaultValue no cap
   */
  rateCap?: ShardRateCap | null;
}

/**
 * Loads one full sync's RDB into the target as it streams in: the parser, and per key RESTORE (or a rebuild with
 * commands, see RewritingKeyWriter; big keys always in parts), the plan's filter and db mapping, expired keys
 * skipped, function libraries with `FUNCTION LOAD REPLACE`. One loader per FULLRESYNC.
 */
export class RdbLoader {
  private readonly parser: RdbParser;
  private readonly keyWriter: RewritingKeyWriter;
  /** keys of this RDB handed to the target: what a damaged RDB leaves behind */
  private keysWritten = 0;
  private readonly onWriterDrain = () => this.resumeParsing();
  private readonly offCapRelease: () => void;

  constructor(private readonly options: RdbLoaderOptions) {
    const { writer, filter, progress, logger } = options;
    // A full window pauses the parser too, not only the source: what it has buffered (up to a big value's
    // threshold of raw chunks) is turned into writes as the window drains, not all at once into the queue.
    const pauseSource = () => {
      this.parser.pause();
      options.pauseSource();
    };
    const keyWriter = new RewritingKeyWriter(
      writer,
      options.rewrite ?? 'auto',
      options.capabilities,
      (progress.keyRewrite ??= emptyRewriteCounters()),
      options.targetMode === 'skip-existing',
    );
    this.keyWriter = keyWriter;
    this.parser = new RdbParser(
      {
        onHeader: (rdbVersion) => {
          if (keyWriter.rewriting) {
            logger.info(
              { rdbVersion, targetVersion: options.capabilities?.version ?? null },
              'keys are rebuilt with commands (the target cannot RESTORE this payload version)',
            );
          }
        },
        onKey: (record) => this.restoreKey(record),
        onBigKeyStart: (info) =>
          keyWriter.startBigKey(info, filter ? filter.restoreDb(info.db, info.key) : info.db),
        onBigKeyPart: (part) => {
          if (!keyWriter.bigKeyPart(part)) pauseSource();
        },
        onBigKeyEnd: () => {
          progress.keysWritten += 1;
          this.keysWritten += 1;
          if (!keyWriter.endBigKey()) pauseSource();
          this.charge();
        },
        onFunction: (code) => {
          if (filter?.isDenied('FUNCTION')) return;
          if (!writer.applyCommand([FUNCTION, LOAD, REPLACE, code], -1)) pauseSource();
        },
      },
      {
        decode: (rdbVersion) => keyWriter.decodeFor(rdbVersion),
        bigKeyThreshold: options.bigKeyThreshold,
      },
    );
    writer.on('drain', this.onWriterDrain);
    this.offCapRelease = options.rateCap?.onRelease(() => this.resumeParsing()) ?? (() => undefined);
  }

  /** @throws SourceRdbError for a damaged RDB (naming the source and what the target holds), or what a write threw */
  push(chunk: Buffer): void {
    this.parse(() => this.parser.push(chunk));
  }

  /** The transfer ended: @throws SourceRdbError when the RDB was truncated */
  end(): void {
    this.dispose();
    this.parse(() => this.parser.end());
  }

  /** The link ended: stop listening to the writer. */
  dispose(): void {
    this.options.writer.off('drain', this.onWriterDrain);
    this.offCapRelease();
  }

  /** One more key written: charged to the cap, whose debt pauses the parser after this key. */
  private charge(): void {
    if (this.options.rateCap && !this.options.rateCap.take(1, 0)) this.parser.pause();
  }

  /**
   * The writer drained. Runs after the shard's own drain handler resumed the source, and the source delivers
   * asynchronously: if parsing the buffered bytes fills the window again, the source is paused again before it
   * delivers anything.
   */
  private resumeParsing(): void {
    if (!this.parser.isPaused) return;
    try {
      this.parse(() => this.parser.resume());
    } catch (error) {
      this.dispose();
      this.options.onError(error as Error);
    }
  }

  private parse(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof RdbError) {
        throw new SourceRdbError(this.options.sourceLabel, error, {
          keys: this.keysWritten,
          targetMode: this.options.targetMode ?? 'replace',
        });
      }
      throw error;
    }
  }

  private restoreKey(record: RdbKeyRecord): void {
    const { filter, progress } = this.options;
    const db = filter ? filter.restoreDb(record.db, record.key) : record.db;
    if (db === null) return;
    const typeByte = record.restorePayload[0];
    if (typeByte === RDB_TYPE_MODULE || typeByte === RDB_TYPE_MODULE_2) {
      throw new ModuleValueError(record.db, record.key);
    }
    // The key would be gone on arrival (RESTORE … ABSTTL of a past time creates nothing): save the round trip.
    if (record.expireAt !== null && record.expireAt <= Date.now()) {
      progress.keysSkippedExpired! += 1;
      return;
    }
    progress.keysWritten += 1;
    this.keysWritten += 1;
    if (!this.keyWriter.write(record, db)) this.options.pauseSource();
    this.charge();
  }
}
