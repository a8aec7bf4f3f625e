import { z } from 'zod';

/**
 * How a shard syncs: `sync` = full sync then the live command stream until stopped; `full` = one full sync, done
 * once the target confirmed every key of the RDB (the target then equals the snapshot); `scan` and `rdb` are
 * accepted here and implemented by their own engines.
 * @defaultValue "sync"
 */
export const syncModeSchema = z.enum(['sync', 'full', 'scan', 'rdb']);

/**
 * What a full sync does with keys already in the target:
 * - `replace`: every key of the snapshot replaces the target's (RESTORE … REPLACE); keys absent from the snapshot stay
 * - `flush-first`: FLUSHALL on the target before the first key of every full sync (needs `"confirm": true`)
 * - `fail-if-not-empty`: refuse to write into a target that holds any key
 * - `skip-existing`: RESTORE without REPLACE; a key the target already has is kept and counted as skipped
 * @defaultValue "replace"
 */
export const targetModeSchema = z.enum(['replace', 'flush-first', 'fail-if-not-empty', 'skip-existing']);

const db = z.number().int().min(0).max(65535);

/** Command names the filter must see to keep the stream coherent; they cannot be denied. */
export const UNDENIABLE_COMMANDS: readonly string[] = [
  'SELECT',
  'MULTI',
  'EXEC',
  'DISCARD',
  'PING',
  'REPLCONF',
];

/**
 * What of the source reaches the target, applied the same way to the RDB of a full sync and to the command stream.
 */
export const filterSchema = z.strictObject({
  /** which source dbs are synced: `{ allow: [...] }` or `{ deny: [...] }`. @defaultValue every db */
  dbs: z.union([z.strictObject({ allow: z.array(db) }), z.strictObject({ deny: z.array(db) })]).optional(),
  /**
   * Keys that match (start with one of `prefixes`, or match `regex` — tested against the key read as UTF-8) are
   * kept (`mode: "allow"`) or dropped (`mode: "deny"`).
   */
  keys: z
    .strictObject({
      prefixes: z.array(z.string().min(1)).optional(),
      regex: z
        .string()
        .min(1)
        .refine(
          (text) => {
            try {
              new RegExp(text, 'u');
              return true;
            } catch {
              return false;
            }
          },
          { message: 'expected a JavaScript regular expression (it is compiled with the "u" flag)' },
        )
        .optional(),
      /** @defaultValue "allow" */
      mode: z.enum(['allow', 'deny']).optional(),
    })
    .refine((keys) => (keys.prefixes?.length ?? 0) > 0 || keys.regex !== undefined, {
      message: 'give "prefixes" or "regex" (or both)',
    })
    .optional(),
  /** replicated commands never written to the target (case-insensitive), e.g. `["FLUSHALL", "FLUSHDB"]` */
  commands: z
    .strictObject({
      deny: z.array(
        z
          .string()
          .min(1)
          .refine((name) => !UNDENIABLE_COMMANDS.includes(name.toUpperCase()), {
            message: `${UNDENIABLE_COMMANDS.join(', ')} cannot be denied: the stream depends on them`,
          }),
      ),
    })
    .optional(),
  /** source db (decimal string) → target db; unlisted dbs keep their number. A cluster target only has db 0. */
  dbMap: z.record(z.string().regex(/^\d{1,5}$/, 'expected a db number'), db).optional(),
  /**
   * A multi-key command whose keys fall on both sides of the key filter: `error` fails the shard naming the keys;
   * `split` keeps only the allowed keys where that keeps the meaning (DEL, UNLINK, EXISTS, TOUCH, MSET, MSETNX)
   * and fails the shard otherwise.
   * @defaultValue "error"
   */
  multiKeyPolicy: z.enum(['split', 'error']).optional(),
});

export type SyncMode = z.infer<typeof syncModeSchema>;
export type TargetMode = z.infer<typeof targetModeSchema>;
export type SyncFilterSpec = z.infer<typeof filterSchema>;

/** Whether a source db is synced by `filter.dbs`. */
export function isDbAllowed(filter: SyncFilterSpec | undefined, source: number): boolean {
  const dbs = filter?.dbs;
  if (!dbs) return true;
  return 'allow' in dbs ? dbs.allow.includes(source) : !dbs.deny.includes(source);
}

/** The target db of a source db under `filter.dbMap`. */
export function mappedDb(filter: SyncFilterSpec | undefined, source: number): number {
  return filter?.dbMap?.[String(source)] ?? source;
}

/**
 * Source dbs (of `dbs`) that a cluster target cannot take: synced by the filter and not mapped to db 0. Empty when
 * the plan is fine.
 */
export function dbsUnfitForCluster(filter: SyncFilterSpec | undefined, dbs: readonly number[]): number[] {
  return dbs.filter((source) => isDbAllowed(filter, source) && mappedDb(filter, source) !== 0);
}
