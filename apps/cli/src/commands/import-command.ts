import { SecretReferenceError, targetSchema, type TargetSpec } from '@shardbridge/plan';
import {
  importRdbFile,
  targetWriterOptions,
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
    const text = issues.map((issue) => `${issue.path.join('.') || 'target'}: ${issue.message}`).join('; ');
    throw new CliError(`invalid target options: ${text}`, EXIT_USAGE);
  }
  await runRdbImport(file, targetOptionsOrUsageError(target), {
    progressIntervalMs: options.progressIntervalMs ?? 2000,
    rewrite: target.rewrite,
  });
}

function targetOptionsOrUsageError(target: TargetSpec): TargetWriterOptions {
  try {
    return targetWriterOptions(target);
  } catch (error) {
    if (error instanceof SecretReferenceError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
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
  process.stdout.write(`importing ${path} into ${target.type} target ${label}\n`);
  const result = await importRdbFile({
    path,
    target,
    progressIntervalMs: options.progressIntervalMs,
    rewrite: options.rewrite,
    bigKeyThreshold: options.bigKeyThreshold,
    onProgress: (progress) => {
      if (!progress.done) process.stdout.write(`${formatImportProgress(progress)}\n`);
    },
  });
  process.stdout.write(`${formatImportProgress(result)}\n`);
  return result;
}

/** One line: bytes parsed of the file, keys restored and skipped, functions. */
export function formatImportProgress(p: RdbImportProgress): string {
  const percent = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
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
