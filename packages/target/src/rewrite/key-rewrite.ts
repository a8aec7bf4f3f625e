import { scoreText } from './score-text.js';
import { tempKeyFor } from './temp-key.js';
import {
  formatStreamId,
  type RewriteValue,
  type StreamGroupShape,
  type StreamIdShape,
  type StreamShape,
} from './value-shape.js';

export interface KeyRewriteOptions {
  /** elements (list items, members, field/value pairs, stream entries) per command. @defaultValue 1000 */
  batchElements?: number;
  /** argument bytes per command; a string longer than this is written with SET + APPENDs. @defaultValue 1048576 */
  batchBytes?: number;
  /** the target has HPEXPIREAT (Redis 7.4+); otherwise hash field TTLs are dropped and counted. @defaultValue false */
  hashFieldTtl?: boolean;
  /**
   * the target has XSETID ENTRIESADDED/MAXDELETEDID and XGROUP CREATE ... ENTRIESREAD (Redis 7.0+); otherwise
   * only the last ID is set. @defaultValue true
   */
  streamMetadata?: boolean;
  /** unique among writers that may rewrite the same key concurrently; names the scratch key. @defaultValue random */
  token?: string;
  /** time used to drop hash fields whose TTL has passed. @defaultValue Date.now() */
  now?: number;
  /**
   * leave a key the target already has alone: the value is put in place with RENAMENX and the scratch key
   * deleted after it (a no-op when the rename happened). A key written in place (no scratch key fits its slot)
   * is replaced regardless. @defaultValue false
   */
  keepExisting?: boolean;
}

/** What a rewrite could not carry over, for counters and warnings. */
export interface RewriteLosses {
  /** hash field TTLs dropped because the target has no HPEXPIREAT (the fields are kept, persistent) */
  droppedFieldTtls: number;
  /** hash fields skipped because their TTL had already passed */
  expiredFields: number;
  /** pending entries the RDB holds without an owning consumer (nothing to XCLAIM them for) */
  lostPendingEntries: number;
}

const SAFETY_TTL_MS = 24 * 60 * 60 * 1000;
const b = (text: string): Buffer => Buffer.from(text);
const [
  RPUSH,
  SADD,
  ZADD,
  HSET,
  SET,
  APPEND,
  XADD,
  XSETID,
  XGROUP,
  XCLAIM,
  RENAME,
  DEL,
  PEXPIRE,
  PEXPIREAT,
  PERSIST,
] = [
  'RPUSH',
  'SADD',
  'ZADD',
  'HSET',
  'SET',
  'APPEND',
  'XADD',
  'XSETID',
  'XGROUP',
  'XCLAIM',
  'RENAME',
  'DEL',
  'PEXPIRE',
  'PEXPIREAT',
  'PERSIST',
].map(b);

/**
 * Rebuilds one key on a target with ordinary write commands instead of RESTORE — for a target whose RESTORE
 * refuses the source's payload version, and for values too big for one RESTORE. The value is built under a
 * scratch key in the same slot and RENAMEd over the real key at the end, so the key is replaced atomically
 * (never appended to) and a reader never sees half a value. A value may be given whole or in consecutive parts
 * of the same type ({@link append} per part, then {@link finish}): memory is then bounded by a part.
 *
 * Contract: the commands must reach the target in the order given, all in the key's db. Scores are written in
 * shortest round-trip text (bit-exact), stream entries with their IDs, groups with last-delivered ID and
 * entries-read, consumers, and pending entries via XCLAIM ... FORCE (delivery count and time kept; a
 * consumer's seen-time becomes the time of the rewrite).
 */
export class KeyRewrite {
  readonly losses: RewriteLosses = { droppedFieldTtls: 0, expiredFields: 0, lostPendingEntries: 0 };
  /** the key the commands write: the scratch key, or the key itself when no scratch key fits its slot */
  readonly writeKey: Buffer;
  private readonly batchElements: number;
  private readonly batchBytes: number;
  private readonly now: number;
  private commandsSoFar = 0;
  private stringStarted = false;
  private entriesWritten = 0;
  /** IDs of placeholder entries to delete once the stream's groups are built */
  private ghostIds: string[] = [];

  constructor(
    readonly key: Buffer,
    private readonly options: KeyRewriteOptions = {},
  ) {
    this.batchElements = options.batchElements ?? 1000;
    this.batchBytes = options.batchBytes ?? 1024 * 1024;
    this.now = options.now ?? Date.now();
    const token = options.token ?? Math.random().toString(36).slice(2, 10);
    this.writeKey = tempKeyFor(key, token) ?? key;
  }

  /** Commands for a whole value: {@link append} then {@link finish}. */
  static commandsFor(
    key: Buffer,
    value: RewriteValue,
    expireAt: number | null,
    options?: KeyRewriteOptions,
  ): { commands: Buffer[][]; losses: RewriteLosses } {
    const rewrite = new KeyRewrite(key, options);
    const commands = [...rewrite.append(value), ...rewrite.finish(expireAt, value)];
    return { commands, losses: rewrite.losses };
  }

  /**
   * Commands that add `part` to the value being built. For a stream only the entries are written here; its IDs,
   * groups and pending entries come with {@link finish}.
   */
  *append(part: RewriteValue): Generator<Buffer[]> {
    if (this.commandsSoFar === 0 && this.writeKey === this.key) yield this.count([DEL, this.key]);
    switch (part.type) {
      case 'string':
        yield* this.appendString(part.value);
        break;
      case 'list':
        yield* this.batched(RPUSH, part.value, (item) => [item]);
        break;
      case 'set':
        yield* this.batched(SADD, part.value, (member) => [member]);
        break;
      case 'zset':
        yield* this.batched(ZADD, part.value, ({ member, score }) => [b(scoreText(score)), member]);
        break;
      case 'hash':
        yield* this.appendHash(part.value);
        break;
      case 'stream':
        yield* this.appendStreamEntries(part.value);
        break;
    }
  }

  /**
   * Commands that complete the value and put it in place: stream metadata and groups (from `last`, the final
   * part of a stream), the expiry, and the RENAME over the real key.
   */
  *finish(expireAt: number | null, last?: RewriteValue): Generator<Buffer[]> {
    if (last?.type === 'stream') yield* this.finishStream(last.value);
    if (last?.type === 'string' && !this.stringStarted)
      yield this.count([SET, this.writeKey, Buffer.alloc(0)]);
    if (expireAt !== null) yield this.count([PEXPIREAT, this.writeKey, b(String(expireAt))]);
    else if (this.commandsSoFar > 1 && this.writeKey !== this.key) yield this.count([PERSIST, this.writeKey]);
    if (this.writeKey === this.key) return;
    if (!this.options.keepExisting) {
      yield this.count([RENAME, this.writeKey, this.key]);
      return;
    }
    yield this.count([b('RENAMENX'), this.writeKey, this.key]);
    yield this.count([DEL, this.writeKey]);
  }

  private count(command: Buffer[]): Buffer[] {
    this.commandsSoFar += 1;
    return command;
  }

  /** After the first command of a value that takes several: a TTL so a crash mid-key leaves no scratch key forever. */
  private *afterFirst(): Generator<Buffer[]> {
    if (this.commandsSoFar === 1 && this.writeKey !== this.key) {
      yield this.count([PEXPIRE, this.writeKey, b(String(SAFETY_TTL_MS))]);
    }
  }

  private *batched<T>(name: Buffer, items: readonly T[], args: (item: T) => Buffer[]): Generator<Buffer[]> {
    let command: Buffer[] = [name, this.writeKey];
    let elements = 0;
    let bytes = 0;
    for (const item of items) {
      const itemArgs = args(item);
      command.push(...itemArgs);
      elements += 1;
      for (const arg of itemArgs) bytes += arg.length;
      if (elements >= this.batchElements || bytes >= this.batchBytes) {
        yield this.count(command);
        yield* this.afterFirst();
        command = [name, this.writeKey];
        elements = 0;
        bytes = 0;
      }
    }
    if (elements > 0) {
      yield this.count(command);
      yield* this.afterFirst();
    }
  }

  private *appendString(value: Buffer): Generator<Buffer[]> {
    for (let at = 0; at < value.length || (at === 0 && !this.stringStarted); at += this.batchBytes) {
      const slice = value.subarray(at, at + this.batchBytes);
      yield this.count([this.stringStarted ? APPEND : SET, this.writeKey, slice]);
      this.stringStarted = true;
      yield* this.afterFirst();
      if (value.length === 0) break;
    }
  }

  private *appendHash(fields: Extract<RewriteValue, { type: 'hash' }>['value']): Generator<Buffer[]> {
    const live = fields.filter((field) => {
      if (field.expireAt === null || field.expireAt > this.now) return true;
      this.losses.expiredFields += 1;
      return false;
    });
    yield* this.batched(HSET, live, ({ field, value }) => [field, value]);
    const byExpiry = new Map<number, Buffer[]>();
    for (const { field, expireAt } of live) {
      if (expireAt === null) continue;
      if (!this.options.hashFieldTtl) {
        this.losses.droppedFieldTtls += 1;
        continue;
      }
      const group = byExpiry.get(expireAt) ?? [];
      group.push(field);
      byExpiry.set(expireAt, group);
    }
    for (const [expireAt, names] of byExpiry) {
      for (let i = 0; i < names.length; i += this.batchElements) {
        const batch = names.slice(i, i + this.batchElements);
        yield this.count([
          b('HPEXPIREAT'),
          this.writeKey,
          b(String(expireAt)),
          b('FIELDS'),
          b(String(batch.length)),
          ...batch,
        ]);
      }
    }
  }

  /**
   * The stream's entries with their IDs, in ID order, together with a placeholder entry for every pending entry
   * whose message was deleted (XCLAIM … FORCE only recreates a pending entry whose message exists): the
   * placeholders are deleted again once the groups are built, and XSETID then restores the source's counters.
   */
  private *appendStreamEntries(stream: StreamShape): Generator<Buffer[]> {
    const present = new Set(stream.entries.map((entry) => formatStreamId(entry.id)));
    const ghosts = new Map<string, StreamIdShape>();
    for (const group of stream.groups) {
      for (const pending of group.pending) {
        const id = formatStreamId(pending.id);
        if (pending.consumer !== null && !present.has(id)) ghosts.set(id, pending.id);
      }
    }
    this.ghostIds = [...ghosts.keys()];
    const ordered: Array<{ id: StreamIdShape; fields: Buffer[] }> = [
      ...stream.entries,
      ...[...ghosts.values()].map((id) => ({ id, fields: GHOST_FIELDS })),
    ];
    if (ghosts.size > 0) ordered.sort((x, y) => compareIds(x.id, y.id));
    for (const entry of ordered) {
      yield this.count([XADD, this.writeKey, b(formatStreamId(entry.id)), ...entry.fields]);
      this.entriesWritten += 1;
      yield* this.afterFirst();
    }
  }

  private *finishStream(stream: StreamShape): Generator<Buffer[]> {
    if (this.entriesWritten === 0) {
      // XSETID needs an existing stream: create an empty one through a throw-away group.
      const scratchGroup = b('__shardbridge_tmp');
      yield this.count([XGROUP, b('CREATE'), this.writeKey, scratchGroup, b('$'), b('MKSTREAM')]);
      yield this.count([XGROUP, b('DESTROY'), this.writeKey, scratchGroup]);
    }
    for (const group of stream.groups) yield* this.groupCommands(group);
    for (let i = 0; i < this.ghostIds.length; i += this.batchElements) {
      yield this.count([b('XDEL'), this.writeKey, ...this.ghostIds.slice(i, i + this.batchElements).map(b)]);
    }
    // Last: XADD and XDEL above moved the counters this sets back to the source's.
    const setId = [XSETID, this.writeKey, b(formatStreamId(stream.lastId))];
    if (this.options.streamMetadata ?? true) {
      setId.push(b('ENTRIESADDED'), b(String(stream.entriesAdded)));
      setId.push(b('MAXDELETEDID'), b(formatStreamId(stream.maxDeletedId)));
    }
    yield this.count(setId);
  }

  private *groupCommands(group: StreamGroupShape): Generator<Buffer[]> {
    const create = [XGROUP, b('CREATE'), this.writeKey, group.name, b(formatStreamId(group.lastDeliveredId))];
    if ((this.options.streamMetadata ?? true) && group.entriesRead !== null) {
      create.push(b('ENTRIESREAD'), b(String(group.entriesRead)));
    }
    yield this.count(create);
    for (const consumer of group.consumers) {
      yield this.count([XGROUP, b('CREATECONSUMER'), this.writeKey, group.name, consumer.name]);
    }
    for (const pending of group.pending) {
      if (pending.consumer === null) {
        this.losses.lostPendingEntries += 1;
        continue;
      }
      yield this.count([
        XCLAIM,
        this.writeKey,
        group.name,
        pending.consumer,
        b('0'),
        b(formatStreamId(pending.id)),
        b('TIME'),
        b(String(pending.deliveryTime)),
        b('RETRYCOUNT'),
        b(String(pending.deliveryCount)),
        b('FORCE'),
        b('JUSTID'),
      ]);
    }
  }
}

/** The fields of a placeholder entry (deleted again before the key is put in place). */
const GHOST_FIELDS = [b('shardbridge-placeholder'), b('')];

function compareIds(x: StreamIdShape, y: StreamIdShape): number {
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  return x.seq === y.seq ? 0 : x.seq < y.seq ? -1 : 1;
}
