import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { RdbError, RdbParser, type RdbKeyRecord } from '@shardbridge/rdb';
import { TargetWriteError, TargetWriter, type TargetWriterOptions } from '@shardbridge/target';
import type { RewritePolicy } from '@shardbridge/plan';
import { emptyRewriteCounters, RewritingKeyWriter } from '../rewrite/rewriting-key-writer.js';
import { probeTargetCapabilities } from '../rewrite/target-capabilities.js';
import { isEmptyCollection } from './empty-collection.js';
import {
  dbNotInCluster,
  fileInvalid,
  fileUnreadable,
  importInterrupted,
  importStopped,
  isPayloadVersionReply,
  payloadRefused,
  RdbImportError,
} from './rdb-import-errors.js';
import { verifyRdbFile, type RdbFileCheck } from './verify-rdb-file.js';

const [FUNCTION, LOAD, REPLACE] = ['FUNCTION', 'LOAD', 'REPLACE'].map((word) => Buffer.from(word));

export interface RdbImportOptions {
  /** the RDB file, read on this host */
  path: string;
  target: TargetWriterOptions;
  /** called every `progressIntervalMs` while the import runs, and once at the end with `done: true` */
  onProgress?: (progress: RdbImportProgress) => void;
  /** @defaultValue 1000 */
  progressIntervalMs?: number;
  /**
   * Bytes read from the file at a time. Memory stays near this plus the target's in-flight window, whatever the
   * file's size (only the key being parsed is buffered beyond it).
   * @defaultValue 1048576 (1 MiB)
   */
  readChunkBytes?: number;
  /** clock deciding which keys are already expired, unix ms. @defaultValue Date.now */
  now?: () => number;
  /**
   * RESTORE the file's payloads, or rebuild keys with ordinary commands (`auto`: only when the target is too old
   * to load the file's RDB version; see RewritingKeyWriter). @defaultValue 'auto'
   */
  rewrite?: RewritePolicy;
  /** keys needing more RDB bytes than this are written in parts (see ShardSyncOptions). @defaultValue 64 MiB */
  bigKeyThreshold?: number;
  /** called once the check pass proved the file whole, before the first write */
  onChecked?: (check: RdbFileCheck) => void;
  /**
   * Aborting stops the import: during the check nothing was written; during the writes, reading stops, the
   * target confirms what was sent, and the import rejects with RDB_IMPORT_INTERRUPTED saying what it holds.
   */
  signal?: AbortSignal;
}

/** Counters of one import; also its result. */
export interface RdbImportProgress {
  path: string;
  /** `checking`: the pass that reads the whole file before any write (see {@link verifyRdbFile}) */
  phase: 'checking' | 'writing';
  /** what the check proved; null while it runs */
  checked: RdbFileCheck | null;
  /** RDB version from the file header; null until it was read */
  rdbVersion: number | null;
  /** bytes of the file parsed (complete items only) by the current phase */
  bytesDone: number;
  bytesTotal: number;
  /** keys handed to the target (confirmed by the time `done` is true) */
  keysRestored: number;
  /** keys whose expiry had passed: not written, as a server drops them on load */
  keysExpired: number;
  /** empty collections: not written, as a server drops them on load */
  keysEmpty: number;
  /** function libraries loaded with FUNCTION LOAD REPLACE */
  functions: number;
  /** keys rebuilt with commands (an older target, or `rewrite: "always"`), and what that could not carry */
  keysRewritten: number;
  /** hash field TTLs the target could not take (no HPEXPIREAT before Redis 7.4): fields kept without TTL */
  droppedFieldTtls: number;
  elapsedMs: number;
  done: boolean;
}

/**
 * Imports an RDB file into a target. First checks the whole file (CRC-64, structure; see {@link verifyRdbFile})
 * without writing anything, so a damaged or truncated file leaves the target untouched. Then streams the file
 * through the parser without decoding values, RESTOREs each
 * key with the file's own payload (`REPLACE ABSTTL`, routed by slot on a cluster target) — or, for a target too
 * old to load the file's RDB version, rebuilds each key with ordinary commands — loads function libraries
 * with `FUNCTION LOAD REPLACE` (on every master of a cluster), and skips keys that a server would drop on load.
 * Reading pauses while the target's in-flight window is full.
 *
 * Keys already in the target are overwritten; other keys are left alone (no FLUSHALL). Resolves once the target
 * confirmed every write. @throws RdbImportError: before any write (file unreadable/invalid, keys outside db 0 for
 * a cluster target) or the writer's TargetError naming the target; once writing began, every failure is an
 * RdbImportError keeping its cause's code whose message ends with what the target holds (see targetHolds).
 */
export async function importRdbFile(options: RdbImportOptions): Promise<RdbImportProgress> {
  const { path } = options;
  const started = Date.now();
  const bytesTotal = await fileSize(path);
  const progress: RdbImportProgress = {
    path,
    phase: 'checking',
    checked: null,
    rdbVersion: null,
    bytesDone: 0,
    bytesTotal,
    keysRestored: 0,
    keysExpired: 0,
    keysEmpty: 0,
    functions: 0,
    keysRewritten: 0,
    droppedFieldTtls: 0,
    elapsedMs: 0,
    done: false,
  };
  const rewriteCounters = emptyRewriteCounters();
  const report = () => {
    progress.keysRewritten = rewriteCounters.keysRewritten;
    progress.droppedFieldTtls = rewriteCounters.droppedFieldTtls;
    progress.elapsedMs = Date.now() - started;
    options.onProgress?.({ ...progress });
  };
  const timer = setInterval(report, options.progressIntervalMs ?? 1000);
  timer.unref();
  try {
    // A target that cannot be reached, or refuses the credentials, fails in seconds rather than after the check.
    const probe = await TargetWriter.connect(options.target);
    const label = probe.label;
    await probe.close();
    const checked = await checkFile(options, bytesTotal, (bytes) => (progress.bytesDone = bytes));
    progress.checked = checked;
    progress.rdbVersion = checked.rdbVersion;
    options.onChecked?.(checked);
    const outside = checked.firstKeyOutsideDb0;
    if (options.target.type === 'cluster' && outside) {
      throw dbNotInCluster(path, label, outside.db, outside.key, true);
    }
    progress.phase = 'writing';
    progress.bytesDone = 0;
    await writeKeys(options, progress, rewriteCounters);
  } finally {
    clearInterval(timer);
  }
  progress.done = true;
  report();
  return { ...progress };
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    return info.size;
  } catch (error) {
    throw fileUnreadable(path, error as NodeJS.ErrnoException);
  }
}

/** The check pass, its failures in the import's terms (each says nothing was written). */
async function checkFile(
  options: RdbImportOptions,
  bytesTotal: number,
  onBytes: (bytes: number) => void,
): Promise<RdbFileCheck> {
  try {
    return await verifyRdbFile(options.path, {
      bytesTotal,
      readChunkBytes: options.readChunkBytes,
      bigKeyThreshold: options.bigKeyThreshold,
      onBytes,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw importInterrupted(options.path, null);
    if (error instanceof RdbError) throw fileInvalid(options.path, error, true);
    throw fileUnreadable(options.path, error as NodeJS.ErrnoException);
  }
}

/**
 * The write pass: parser → RESTORE (or a rebuild with commands) → target, reading paused while the target's
 * window is full. Every failure says what the target holds (see targetHolds).
 */
async function writeKeys(
  options: RdbImportOptions,
  progress: RdbImportProgress,
  rewriteCounters: ReturnType<typeof emptyRewriteCounters>,
): Promise<void> {
  const { path, signal } = options;
  const now = options.now ?? Date.now;
  const policy = options.rewrite ?? 'auto';
  const capabilities = policy === 'never' ? null : await probeTargetCapabilities(options.target);
  const writer = await TargetWriter.connect(options.target);
  const keyWriter = new RewritingKeyWriter(writer, policy, capabilities, rewriteCounters);
  // Failures are read from writer.failed; the listener only keeps an 'error' event from crashing the process.
  writer.on('error', () => {});
  let full = false;

  const label = writer.label;
  const restore = (record: RdbKeyRecord) => {
    // The check pass rejected such a file already; this guards against the file changing in between.
    if (options.target.type === 'cluster' && record.db !== 0) {
      throw dbNotInCluster(path, label, record.db, record.key);
    }
    if (record.expireAt !== null && record.expireAt < now()) {
      progress.keysExpired++;
      return;
    }
    if (isEmptyCollection(record, now())) {
      progress.keysEmpty++;
      return;
    }
    const accepted = keyWriter.write(record);
    progress.keysRestored++;
    if (!accepted) full = true;
  };
  const parser = new RdbParser(
    {
      onHeader: (version) => (progress.rdbVersion = version),
      onKey: restore,
      onBigKeyStart: (info) => {
        if (options.target.type === 'cluster' && info.db !== 0)
          throw dbNotInCluster(path, label, info.db, info.key);
        keyWriter.startBigKey(info);
      },
      onBigKeyPart: (part) => {
        if (!keyWriter.bigKeyPart(part)) full = true;
      },
      onBigKeyEnd: () => {
        progress.keysRestored++;
        if (!keyWriter.endBigKey()) full = true;
      },
      onFunction: (code) => {
        progress.functions++;
        if (!writer.applyCommand([FUNCTION, LOAD, REPLACE, code], -1)) full = true;
      },
    },
    {
      decode: (rdbVersion) => keyWriter.decodeFor(rdbVersion),
      expectedSize: progress.bytesTotal,
      bigKeyThreshold: options.bigKeyThreshold,
    },
  );
  const stopPoint = (confirmed: boolean) => ({
    bytesDone: parser.bytesConsumed,
    bytesTotal: progress.bytesTotal,
    keys: progress.keysRestored,
    functions: progress.functions,
    confirmed,
  });

  const stream = createReadStream(path, { highWaterMark: options.readChunkBytes ?? 1 << 20 });
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) break;
      parser.push(chunk as Buffer);
      progress.bytesDone = parser.bytesConsumed;
      if (full) {
        full = false;
        await drained(writer);
      }
    }
    if (signal?.aborted) {
      await writer.flush();
      throw importInterrupted(path, stopPoint(true));
    }
    parser.end();
    progress.bytesDone = parser.bytesConsumed;
    await writer.flush();
  } catch (error) {
    if (error instanceof RdbImportError && error.code === 'RDB_IMPORT_INTERRUPTED') throw error;
    // A write refused earlier in file order explains the failure better than what this key ran into.
    if (error instanceof RdbImportError || error instanceof RdbError) await writer.flush().catch(() => {});
    throw importStopped(explain(writer.failed ?? error, path, progress.rdbVersion), stopPoint(false));
  } finally {
    stream.destroy();
    await writer.close();
  }
}

/** Resolves on the writer's next `'drain'`; rejects if it fails first. */
async function drained(writer: TargetWriter): Promise<void> {
  if (writer.failed) throw writer.failed;
  const controller = new AbortController();
  try {
    await Promise.race([
      once(writer, 'drain', { signal: controller.signal }),
      once(writer, 'error', { signal: controller.signal }).then(([error]) => Promise.reject(error as Error)),
    ]);
  } finally {
    controller.abort();
  }
}

/** The error an operator should see: file problems name the offset, refused payloads the RDB version and fix. */
function explain(error: unknown, path: string, rdbVersion: number | null): Error {
  if (error instanceof RdbError) return fileInvalid(path, error);
  if (error instanceof RdbImportError) return error;
  if ((error as NodeJS.ErrnoException)?.syscall === 'read') {
    return fileUnreadable(path, error as NodeJS.ErrnoException);
  }
  if (
    error instanceof TargetWriteError &&
    error.refused &&
    rdbVersion !== null &&
    isPayloadVersionReply(error.refused.reply)
  ) {
    return payloadRefused(path, error.target, rdbVersion, error.refused);
  }
  return error as Error;
}
