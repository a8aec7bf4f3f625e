import { SecretReferenceError, targetSchema, type TargetSpec } from '@shardbridge/plan';
import {
  importRdbFile,
  targetWriterOptions,
  type RdbFileCheck,
  type RdbImportOptions,
  type RdbImportProgress,
} from '@shardbridge/worker/engine';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { formatBytes } from '../format-progress.js';

type TargetWriterOptions = RdbImportOptions['target'];

export interface ImportCommandOptions {
  /** `host:port` of the target (any node of a cluster target) */
  target: string;
  /** @defaultValue 'standalone' */
  targetType: 'standalone' | 'cluster';
  username?: string;
  /** literal, `env:NAME` or `file:/path` */
  password?: string;
  /** connect with TLS (implied by any other TLS option). @defaultValue false */
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServername?: string;
  /** do not verify the target's certificate. @defaultValue false */
  tlsInsecure?: boolean;
  /** print a progress line this often. @defaultValue 2000 */
  progressIntervalMs?: number;
  /** RESTORE payloads, or rebuild keys with commands (see the plan's `target.rewrite`). @defaultValue 'auto' */
  rewrite?: 'auto' | 'always' | 'never';
}

/** `shardbridge import <file.rdb> --target host:port`: the flags become a plan-style target, validated as one. */
export async function importCommand(file: string, options: ImportCommandOptions): Promise<void> {
  const tlsObject = {
    ...(options.tlsCa === undefined ? {} : { ca: `file:${options.tlsCa}` }),
    ...(options.tlsCert === undefined ? {} : { cert: `file:${options.tlsCert}` }),
    ...(options.tlsKey === undefined ? {} : { key: `file:${options.tlsKey}` }),
    ...(options.tlsServername === undefined ? {} : { servername: options.tlsServername }),
    ...(options.tlsInsecure ? { rejectUnauthorized: false } : {}),
  };
  let target: TargetSpec;
  try {
    target = targetSchema.parse({
      type: options.targetType,
      seeds: [options.target],
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      tls: Object.keys(tlsObject).length > 0 ? tlsObject : Boolean(options.tls),
      ...(options.rewrite === undefined ? {} : { rewrite: options.rewrite }),
    });
  } catch (error) {
    const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
    if (!issues) throw error;
    const text = issues.map((issue) => `${flagOf(`target.${issue.path.join('.')}`)}: ${issue.message}`);
    throw new CliError(`invalid target options: ${text.join('; ')}`, EXIT_USAGE);
  }
  const writerOptions = targetOptionsOrUsageError(target);
  try {
    await runRdbImport(file, writerOptions, {
      progressIntervalMs: options.progressIntervalMs ?? 2000,
      rewrite: target.rewrite,
    });
  } catch (error) {
    throw inFlagTerms(error);
  }
}

function targetOptionsOrUsageError(target: TargetSpec): TargetWriterOptions {
  try {
    return targetWriterOptions(target);
  } catch (error) {
    if (error instanceof SecretReferenceError) throw new CliError(inFlagTerms(error).message, EXIT_USAGE);
    throw error;
  }
}

/** The plan fields `import` builds from its flags, longest first (`target.tls.ca` before `target.tls`). */
const FLAG_OF_FIELD: Array<[field: string, flag: string]> = [
  ['target.tls.servername', '--tls-servername'],
  ['target.tls.rejectUnauthorized', '--tls-insecure'],
  ['target.tls.cert', '--tls-cert'],
  ['target.tls.key', '--tls-key'],
  ['target.tls.ca', '--tls-ca'],
  ['target.tls', '--tls'],
  ['target.password', '--password'],
  ['target.username', '--username'],
  ['target.seeds.0', '--target'],
  ['target.seeds', '--target'],
  ['target.type', '--target-type'],
  ['target.rewrite', '--rewrite'],
];

function flagOf(field: string): string {
  return FLAG_OF_FIELD.find(([name]) => field === name)?.[1] ?? field;
}

/**
 * The shared target and secret errors speak of the plan and of a worker; `import` has neither, only flags typed
 * on this host. Rewrites those phrases (and plan field names) into the flags, keeping the error's class and code.
 */
function inFlagTerms<T>(error: T): T {
  if (!(error instanceof Error)) return error;
  let text = error.message
    .replace(
      /set the target password \(and username for ACL users\) in the plan/,
      'give --password (and --username for an ACL user)',
    )
    .replace(/check the target username\/password in the plan/, 'check --username and --password')
    .replace(/set the target's username\/password in the plan/, 'check --username and --password')
    .replace(/remove the password from the plan/, 'drop --password')
    .replace(
      /map it to a reachable address in natMap/,
      'run the import as a plan (source type "rdb") whose target.natMap maps it to a reachable address',
    )
    .replace(/set the target type to "(standalone|cluster)"/, 'use --target-type $1')
    .replace(/this worker/g, 'this host')
    .replace(/ in the plan\b/g, ' in the import flags');
  for (const [field, flag] of FLAG_OF_FIELD) text = text.split(`${field}:`).join(`${flag}:`);
  error.message = text;
  return error;
}

/**
 * Runs one import in this process, printing a progress line every `progressIntervalMs` and a summary at the end.
 * Used by `import` and by `run <plan>` for a plan whose source is an RDB file. Failures propagate (the CLI prints
 * one `error:` line and exits 1).
 */
export async function runRdbImport(
  path: string,
  target: TargetWriterOptions,
  options: { progressIntervalMs: number; rewrite?: 'auto' | 'always' | 'never'; bigKeyThreshold?: number },
): Promise<RdbImportProgress> {
  const label = target.label ?? `${target.seeds[0]?.host}:${target.seeds[0]?.port}`;
  process.stdout.write(
    `importing ${path} into ${target.type} target ${label} (checking the whole file first)\n`,
  );
  // The first SIGINT/SIGTERM stops the import cleanly and says what the target holds; a second one kills.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await importRdbFile({
      path,
      target,
      progressIntervalMs: options.progressIntervalMs,
      rewrite: options.rewrite,
      bigKeyThreshold: options.bigKeyThreshold,
      signal: interrupt.signal,
      onChecked: (check) => process.stdout.write(`${formatFileCheck(check)}\n`),
      onProgress: (progress) => {
        if (!progress.done) process.stdout.write(`${formatImportProgress(progress)}\n`);
      },
    });
    process.stdout.write(`${formatImportProgress(result)}\n`);
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** One line once the check pass is done: what it proved, and what it could not. */
export function formatFileCheck(check: RdbFileCheck): string {
  const seconds = check.elapsedMs / 1000;
  const rate = seconds > 0 ? `, ${formatBytes(check.bytes / seconds)}/s` : '';
  const head = `checked (RDB ${check.rdbVersion}): ${formatBytes(check.bytes)}, ${check.keys} keys in ${seconds.toFixed(1)} s${rate}`;
  if (check.checksum === 'verified') return `${head}: CRC-64 verified; writing keys`;
  const why =
    check.checksum === 'absent'
      ? `RDB ${check.rdbVersion} files carry no checksum`
      : 'the file was saved with rdbchecksum no';
  return (
    `${head}: structure and every value decoded, but its values could not be verified by CRC (${why}); ` +
    'writing keys'
  );
}

/** One line: bytes parsed of the file, keys restored and skipped, functions. */
export function formatImportProgress(p: RdbImportProgress): string {
  const percent = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  if (p.phase === 'checking') {
    return `checking  ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} (${percent}%)  ${(p.elapsedMs / 1000).toFixed(1)} s`;
  }
  const parts = [
    p.done ? `imported (RDB ${p.rdbVersion})` : 'import',
    `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} (${percent}%)`,
    `keys ${p.keysRestored}`,
    `expired skipped ${p.keysExpired}`,
  ];
  if (p.keysEmpty > 0) parts.push(`empty skipped ${p.keysEmpty}`);
  if (p.functions > 0) parts.push(`functions ${p.functions}`);
  if (p.keysRewritten > 0) parts.push(`rebuilt with commands ${p.keysRewritten}`);
  if (p.droppedFieldTtls > 0) parts.push(`hash field TTLs dropped ${p.droppedFieldTtls} (target < 7.4)`);
  parts.push(`${(p.elapsedMs / 1000).toFixed(1)} s`);
  return parts.join('  ');
}
