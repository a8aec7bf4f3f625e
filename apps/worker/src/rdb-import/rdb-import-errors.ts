import type { RdbError } from '@shardbridge/rdb';
import { describeKey, type RefusedCommand } from '@shardbridge/target';

/** Stable codes of the import's own errors (the writer's `TARGET_*` codes pass through unchanged). */
export type RdbImportErrorCode =
  'RDB_FILE_UNREADABLE' | 'RDB_PAYLOAD_REFUSED' | 'RDB_DB_NOT_IN_CLUSTER' | RdbError['code'];

/** An RDB import failed; the message is one line an operator can act on. */
export class RdbImportError extends Error {
  override name = 'RdbImportError';

  constructor(
    readonly code: RdbImportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The file cannot be opened or read (missing, permissions, a directory). */
export function fileUnreadable(path: string, error: NodeJS.ErrnoException): RdbImportError {
  return new RdbImportError(
    'RDB_FILE_UNREADABLE',
    `cannot read the RDB file ${path}: ${error.code ?? error.message} — give a path readable on this host`,
    { cause: error },
  );
}

/**
 * The file is not a complete valid RDB (truncated, corrupt, bad checksum, unknown type). Keeps the parser's code;
 * its message already names the byte offset.
 */
export function fileInvalid(path: string, error: RdbError): RdbImportError {
  const fix =
    error.code === 'RDB_TRUNCATED'
      ? 'the copy is incomplete: copy the file again (or wait until BGSAVE finished writing it)'
      : 'the file is damaged or not an RDB: take a fresh SAVE/BGSAVE of the source';
  return new RdbImportError(error.code, `RDB file ${path}: ${error.message} — ${fix}`, { cause: error });
}

/** The first server release that writes each RDB version (what a target must run at least to RESTORE it). */
const WRITTEN_BY: Record<number, string> = {
  9: 'Redis 5.0',
  10: 'Redis 7.0',
  11: 'Redis 7.2 / Valkey 7.2',
  12: 'Redis 7.4',
};

/**
 * The target answered RESTORE with "DUMP payload version or checksum are wrong": the payload's RDB version is newer
 * than the target's (the payloads are the file's bytes, so the checksum is right by construction).
 */
export function payloadRefused(
  path: string,
  target: string,
  rdbVersion: number,
  refused: RefusedCommand,
): RdbImportError {
  const writtenBy = WRITTEN_BY[rdbVersion];
  const newer = writtenBy ? `${writtenBy} or newer` : `a server that writes RDB ${rdbVersion}`;
  return new RdbImportError(
    'RDB_PAYLOAD_REFUSED',
    `target ${target} refused RESTORE of key ${describeKey(refused.key)} from ${path} ("${refused.reply}"): ` +
      `the file is RDB version ${rdbVersion}${writtenBy ? ` (written by ${writtenBy})` : ''}, newer than the ` +
      `target's server can load — import into a target running ${newer}, or re-save the data with a server ` +
      `of the target's version`,
  );
}

/** True when a RESTORE error reply means "payload from a newer RDB version". */
export function isPayloadVersionReply(reply: string): boolean {
  return /payload version/i.test(reply);
}

/** A key of db `db` > 0 on its way to a cluster target, which only has db 0. */
export function dbNotInCluster(path: string, target: string, db: number, key: Buffer): RdbImportError {
  return new RdbImportError(
    'RDB_DB_NOT_IN_CLUSTER',
    `RDB file ${path} has keys in db ${db} (first: ${describeKey(key)}), but cluster target ${target} only has ` +
      'db 0 — import the file into a standalone target (the keys of db 0 read before this point were restored)',
  );
}
