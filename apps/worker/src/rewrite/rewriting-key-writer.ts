import type { BigKeyInfo, BigValuePart, RdbKeyRecord } from '@shardbridge/rdb';
import { KeyRewrite, type TargetWriter } from '@shardbridge/target';
import { shouldRewrite, type RewritePolicy } from './rewrite-policy.js';
import type { TargetCapabilities } from './target-capabilities.js';

/** What rebuilding keys with commands did, for progress and warnings. */
export interface KeyRewriteCounters {
  /** keys written with commands instead of RESTORE */
  keysRewritten: number;
  /** rewritten keys skipped because their TTL had passed before they were written */
  expiredKeysSkipped: number;
  /** hash field TTLs the target could not take (no HPEXPIREAT): fields kept without TTL */
  droppedFieldTtls: number;
  /** consumer-group pending entries without an owning consumer in the RDB (nothing to claim them for) */
  lostPendingEntries: number;
}

export function emptyRewriteCounters(): KeyRewriteCounters {
  return { keysRewritten: 0, expiredKeysSkipped: 0, droppedFieldTtls: 0, lostPendingEntries: 0 };
}

/**
 * Writes the keys of a full sync into the target: by RESTORE of the source's payload, or — when the policy asks
 * for it (an older target, or `always`) — rebuilt with ordinary commands by {@link KeyRewrite}. The choice is
 * made once per RDB from its version, before any value is read, through {@link decodeFor} (the parser decodes
 * values only when they will be rewritten).
 */
export class RewritingKeyWriter {
  /** the big key being written in parts; `skip` when it had expired already */
  private bigKey: {
    db: number;
    expireAt: number | null;
    rewrite: KeyRewrite | 'skip';
    last: BigValuePart | null;
  } | null = null;
  private rewritingThisRdb = false;
  private readonly token = Math.random().toString(36).slice(2, 8);

  /**
   * @param keepExisting the plan's `targetMode: "skip-existing"`: a key the target already has is left alone
   *   (RESTORE without REPLACE; a rebuilt key is put in place with RENAMENX)
   */
  constructor(
    private readonly writer: TargetWriter,
    private readonly policy: RewritePolicy,
    private readonly capabilities: TargetCapabilities | null,
    readonly counters: KeyRewriteCounters,
    private readonly keepExisting = false,
  ) {}

  /** whether the current RDB's keys are rebuilt with commands (known once its header was read) */
  get rewriting(): boolean {
    return this.rewritingThisRdb;
  }

  /** For `RdbParser`'s `decode` option: true when this RDB's keys are to be rewritten. */
  readonly decodeFor = (rdbVersion: number): boolean => {
    this.rewritingThisRdb = shouldRewrite(this.policy, rdbVersion, this.capabilities?.rdbVersion ?? null);
    return this.rewriting;
  };

  /**
   * A key over the parser's bigKeyThreshold starts: it is built in parts under a scratch key whatever the policy
   * (one RESTORE could not carry it), then RENAMEd over the real key by {@link endBigKey}.
   */
  startBigKey(info: BigKeyInfo, db: number | null = info.db): void {
    const expired = info.expireAt !== null && info.expireAt <= Date.now();
    if (db === null) {
      // filtered out: its parts are read and dropped
    } else if (expired) this.counters.expiredKeysSkipped += 1;
    else this.counters.keysRewritten += 1;
    this.bigKey = {
      db: db ?? info.db,
      expireAt: info.expireAt,
      rewrite: expired || db === null ? 'skip' : new KeyRewrite(info.key, this.rewriteOptions()),
      last: null,
    };
  }

  /** @returns false when the target's in-flight window is full (wait for 'drain') */
  bigKeyPart(part: BigValuePart): boolean {
    const big = this.bigKey!;
    big.last = part;
    if (big.rewrite === 'skip') return true;
    return this.send(big.db, big.rewrite.append(part));
  }

  /** @returns false when the target's in-flight window is full (wait for 'drain') */
  endBigKey(): boolean {
    const big = this.bigKey!;
    this.bigKey = null;
    if (big.rewrite === 'skip') return true;
    // `last` matters for an empty string only (it still has to be created); streams are never streamed.
    return this.send(big.db, big.rewrite.finish(big.expireAt, big.last ?? undefined));
  }

  /**
   * @param db the target db (the record's, or where the plan's dbMap sends it)
   * @returns false when the target's in-flight window is full (wait for 'drain')
   */
  write(record: RdbKeyRecord, db = record.db): boolean {
    if (!this.rewritingThisRdb || !record.value || record.value.type === 'module') {
      return this.writer.restoreKey({
        db,
        key: record.key,
        expireAt: record.expireAt,
        payload: record.restorePayload,
        idle: record.idle,
        freq: record.freq,
        ...(this.keepExisting ? { replace: false } : {}),
      });
    }
    if (record.expireAt !== null && record.expireAt <= Date.now()) {
      this.counters.expiredKeysSkipped += 1;
      return true;
    }
    const { commands, losses } = KeyRewrite.commandsFor(
      record.key,
      record.value,
      record.expireAt,
      this.rewriteOptions(),
    );
    this.counters.keysRewritten += 1;
    this.counters.droppedFieldTtls += losses.droppedFieldTtls;
    this.counters.lostPendingEntries += losses.lostPendingEntries;
    return this.send(db, commands);
  }

  private rewriteOptions() {
    return {
      hashFieldTtl: this.capabilities?.hashFieldTtl ?? false,
      streamMetadata: this.capabilities?.streamMetadata ?? true,
      token: this.token,
      keepExisting: this.keepExisting,
    };
  }

  private send(db: number, commands: Iterable<Buffer[]>): boolean {
    let room = true;
    for (const command of commands) room = this.writer.writeKeyCommand(db, command);
    return room;
  }
}
