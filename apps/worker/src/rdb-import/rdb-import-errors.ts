import type { RdbError } from '@shardbridge/rdb';
import { describeKey, type RefusedCommand, type TargetErrorCode } from '@shardbridge/target';

/**
 * Stable codes of the import's errors. An import that stops after writing began keeps its cause's code (the
 * writer's `TARGET_*`, or one of these) and says in its message what the target holds.
 */
export type RdbImportErrorCode =
  | 'RDB_FILE_UNREADABLE'
  | 'RDB_PAYLOAD_REFUSED'
  | 'RDB_DB_NOT_IN_CLUSTER'
  | 'RDB_IMPORT_INTERRUPTED'
  | RdbError['code']
  | TargetErrorCode
  /** a cause without a code of its own (a bug): its message is kept */
  | 'INTERNAL';

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
 * its message already names the byte offset. `checking`: found by the check pass, before any write.
 */
export function fileInvalid(path: string, error: RdbError, checking = false): RdbImportError {
  const fix =
    error.code === 'RDB_TRUNCATED'
      ? 'the copy is incomplete: copy the file again (or wait until BGSAVE finished writing it)'
      : 'the file is damaged or not an RDB: take a fresh SAVE/BGSAVE of the source';
  const untouched = checking ? '; nothing was written to the target' : '';
  return new RdbImportError(error.code, `RDB file ${path}: ${error.message} — ${fix}${untouched}`, {
    cause: error,
  });
}

/** Where a write pass stopped, for the sentence saying what the target holds. */
export interface ImportStopPoint {
  /** bytes of the file read into complete items when it stopped */
  bytesDone: number;
  bytesTotal: number;
  /** keys handed to the target (expired and empty ones skipped are not counted) */
  keys: number;
  /** function libraries loaded */
  functions: number;
  /** every key handed over was confirmed by the target (an interrupt waits for that; a failure cannot) */
  confirmed: boolean;
}

/**
 * What the target holds once an import stopped half way, as one clause. True of both write forms: RESTORE is
 * sent with REPLACE, and a key rebuilt with commands is RENAMEd over its name; no key is ever deleted.
 */
export function targetHolds(at: ImportStopPoint): string {
  const where = `the import stopped at byte ${at.bytesDone} of ${at.bytesTotal}`;
  if (at.keys === 0 && at.functions === 0) return `${where}: nothing of the file was written to the target`;
  const keys = at.confirmed
    ? `the target holds ${at.keys} keys of the file, all read before that byte`
    : `the target holds up to ${at.keys} keys of the file, all read before that byte (the last ones sent may ` +
      'not have been applied)';
  const functions = at.functions > 0 ? ` and ${at.functions} function libraries` : '';
  return (
    `${where}: ${keys}${functions}; keys of the same name were overwritten, no other key was removed — fix ` +
    'the cause and re-run the same import: it writes every key again'
  );
}

/** An import failed after writing began: the cause's message and code, then what the target holds. */
export function importStopped(cause: Error, at: ImportStopPoint): RdbImportError {
  const code = (cause as { code?: RdbImportErrorCode }).code ?? 'INTERNAL';
  return new RdbImportError(code, `${cause.message} — ${targetHolds(at)}`, { cause });
}

/** The import was interrupted (Ctrl-C, SIGTERM): `at` is null when it happened during the check pass. */
export function importInterrupted(path: string, at: ImportStopPoint | null): RdbImportError {
  return new RdbImportError(
    'RDB_IMPORT_INTERRUPTED',
    at
      ? `import of ${path} interrupted — ${targetHolds(at)}`
      : `import of ${path} interrupted while checking the file: nothing was written to the target`,
  );
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

/** A key of db `db` > 0 on its way to a cluster target, which only has db 0. `checking`: found before any write. */
export function dbNotInCluster(
  path: string,
  target: string,
  db: number,
  key: Buffer,
  checking = false,
): RdbImportError {
  return new RdbImportError(
    'RDB_DB_NOT_IN_CLUSTER',
    `RDB file ${path} has keys in db ${db} (first: ${describeKey(key)}), but cluster target ${target} only has ` +
      `db 0 — import the file into a standalone target${checking ? '; nothing was written to the target' : ''}`,
  );
}
