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
  isPayloadVersionReply,
  payloadRefused,
  RdbImportError,
} from './rdb-import-errors.js';

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
}

/** Counters of one import; also its result. */
export interface RdbImportProgress {
  path: string;
  /** RDB version from the file header; null until it was read */
  rdbVersion: number | null;
  /** bytes of the file parsed (complete items only) */
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
 * Imports an RDB file into a target: streams the file through the parser without decoding values, RESTOREs each
 * key with the file's own payload (`REPLACE ABSTTL`, routed by slot on a cluster target) — or, for a target too
 * old to load the file's RDB version, rebuilds each key with ordinary commands — loads function libraries
 * with `FUNCTION LOAD REPLACE` (on every master of a cluster), and skips keys that a server would drop on load.
 * Reading pauses while the target's in-flight window is full.
 *
 * Keys already in the target are overwritten; other keys are left alone (no FLUSHALL). Resolves once the target
 * confirmed every write. @throws RdbImportError (file unreadable/invalid, payload refused) or the writer's
 * TargetError; keys confirmed before the failure stay in the target.
 */
export async function importRdbFile(options: RdbImportOptions): Promise<RdbImportProgress> {
  const { path } = options;
  const started = Date.now();
  const now = options.now ?? Date.now;
  let bytesTotal: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    bytesTotal = info.size;
  } catch (error) {
    throw fileUnreadable(path, error as NodeJS.ErrnoException);
  }
  const progress: RdbImportProgress = {
    path,
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

  const policy = options.rewrite ?? 'auto';
  const capabilities = policy === 'never' ? null : await probeTargetCapabilities(options.target);
  const writer = await TargetWriter.connect(options.target);
  const keyWriter = new RewritingKeyWriter(writer, policy, capabilities, rewriteCounters);
  // Failures are read from writer.failed; the listener only keeps an 'error' event from crashing the process.
  writer.on('error', () => {});
  let full = false;
  const timer = setInterval(report, options.progressIntervalMs ?? 1000);
  timer.unref();

  const label = writer.label;
  const restore = (record: RdbKeyRecord) => {
    // Checked here rather than by the writer so that an earlier key's refusal, still in flight, is reported first.
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
      expectedSize: bytesTotal,
      bigKeyThreshold: options.bigKeyThreshold,
    },
  );

  const stream = createReadStream(path, { highWaterMark: options.readChunkBytes ?? 1 << 20 });
  try {
    for await (const chunk of stream) {
      parser.push(chunk as Buffer);
      progress.bytesDone = parser.bytesConsumed;
      if (full) {
        full = false;
        await drained(writer);
      }
    }
    parser.end();
    progress.bytesDone = parser.bytesConsumed;
    await writer.flush();
  } catch (error) {
    // A write refused earlier in file order explains the failure better than what this key ran into.
    if (error instanceof RdbImportError || error instanceof RdbError) await writer.flush().catch(() => {});
    throw explain(writer.failed ?? error, path, progress.rdbVersion);
  } finally {
    clearInterval(timer);
    stream.destroy();
    await writer.close();
  }
  progress.done = true;
  report();
  return { ...progress };
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
