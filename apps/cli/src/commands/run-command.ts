import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import {
  parseHostPort,
  parsePlanText,
  PlanValidationError,
  resolveSecret,
  resolveTls,
  type Plan,
  type TlsSpec,
} from '@shardbridge/plan';
import { FileCheckpointStore, ShardSync, type ShardProgress } from '@shardbridge/worker';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { formatProgress } from '../format-progress.js';
import { runAllInOne } from './run-all-in-one.js';

export interface RunCommandOptions {
  /** in-process single-shard sync with file checkpoints, no queue (standalone source only) */
  direct?: boolean;
  /** all-in-one mode: an existing queue Redis instead of the embedded one */
  queue?: string;
  /** all-in-one mode: where the embedded queue keeps its data. @defaultValue `.shardbridge` */
  dataDir?: string;
  /** all-in-one mode: shard jobs at once. @defaultValue 4 */
  concurrency?: number;
  /** @defaultValue `.shardbridge/checkpoints` under the working directory */
  checkpointDir?: string;
  /** @defaultValue 'info' */
  logLevel?: string;
  /** print a progress line this often. @defaultValue 2000 */
  progressIntervalMs?: number;
  /** @defaultValue 10 */
  maxReconnects?: number;
}

export async function loadPlan(path: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read plan ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      EXIT_USAGE,
    );
  }
  try {
    return parsePlanText(text);
  } catch (error) {
    if (error instanceof PlanValidationError) {
      const lines = error.issues.map((issue) => `  ${issue.field}: ${issue.reason}`).join('\n');
      throw new CliError(`plan ${path} is invalid:\n${lines}`, EXIT_USAGE);
    }
    throw error;
  }
}

/** Builds the one-shard sync a standalone source needs. */
export function shardSyncFromPlan(
  plan: Plan,
  options: {
    checkpointDir: string;
    logger: Logger;
    onProgress?: (p: ShardProgress) => void;
    maxReconnects?: number;
    progressIntervalMs?: number;
  },
): ShardSync {
  const seed = parseHostPort(plan.source.seeds[0])!;
  const shardId = `${plan.name}-0`;
  return new ShardSync({
    shardId,
    source: {
      host: seed.host,
      port: seed.port,
      label: `source ${plan.source.seeds[0]}`,
      username: plan.source.username,
      password: resolveSecret(plan.source.password, 'source.password'),
      tls: tlsOptions(plan.source.tls, 'source.tls'),
    },
    target: {
      type: plan.target.type,
      seeds: plan.target.seeds.map((text) => parseHostPort(text)!),
      username: plan.target.username,
      password: resolveSecret(plan.target.password, 'target.password'),
      tls: tlsOptions(plan.target.tls, 'target.tls'),
      label: plan.target.seeds[0],
    },
    checkpoints: new FileCheckpointStore(options.checkpointDir),
    logger: options.logger,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    maxReconnectAttempts: options.maxReconnects,
  });
}

/** The plan's TLS setting as connect options (CA/cert from `file:`, key from a secret reference), or none. */
function tlsOptions(spec: TlsSpec, field: string) {
  const resolved = resolveTls(spec, field);
  return resolved.enabled ? resolved.options : undefined;
}

/**
 * `shardbridge run <plan.json>`: full sync, then incremental until SIGINT/SIGTERM, which stop gracefully
 * (flush, checkpoint, exit 0). All-in-one (coordinator + workers + embedded queue) unless `--direct`.
 */
export async function runCommand(planPath: string, options: RunCommandOptions): Promise<void> {
  const plan = await loadPlan(planPath);
  if (!options.direct) {
    await runAllInOne(plan, {
      queue: options.queue,
      dataDir: options.dataDir,
      concurrency: options.concurrency ?? 4,
      logLevel: options.logLevel ?? 'info',
      progressIntervalMs: options.progressIntervalMs ?? 2000,
    });
    return;
  }
  if (plan.source.type !== 'standalone') {
    throw new CliError(
      '--direct syncs one standalone source; run a cluster source without --direct',
      EXIT_USAGE,
    );
  }
  const logger = pino({ level: options.logLevel ?? 'info', base: { plan: plan.name } }, pino.destination(2));
  const checkpointDir = resolve(options.checkpointDir ?? '.shardbridge/checkpoints');
  let lastLine = '';
  const sync = shardSyncFromPlan(plan, {
    checkpointDir,
    logger,
    maxReconnects: options.maxReconnects,
    progressIntervalMs: options.progressIntervalMs ?? 2000,
    onProgress: (progress) => {
      const line = formatProgress(progress);
      if (line !== lastLine) process.stdout.write(`${line}\n`);
      lastLine = line;
    },
  });
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: stopping — flushing the target and saving the checkpoint\n`);
    void sync.stop();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await sync.run();
  const { acknowledgedOffset, replid } = sync.progress;
  process.stdout.write(
    `stopped at offset ${acknowledgedOffset} of ${replid ?? '(no replid)'}; checkpoint in ${checkpointDir}\n`,
  );
}
