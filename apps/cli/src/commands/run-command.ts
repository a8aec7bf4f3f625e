import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import {
  formatHostPort,
  liveSourceOf,
  LOG_REDACTION,
  NatMapper,
  parseHostPort,
  parsePlanText,
  PlanValidationError,
  shardCapsOf,
  SLOT_COUNT,
  syncSettingsOf,
  type Plan,
  type ShardJobData,
} from '@shardbridge/plan';
import {
  FileCheckpointStore,
  shardEngineForJob,
  type ShardEngine,
  targetWriterOptions,
  type ShardProgress,
} from '@shardbridge/worker/engine';
import type { QueueConnection } from '@shardbridge/worker/queue-connection';
import { CliError, EXIT_USAGE, PlanFileError } from '../cli-error.js';
import { formatProgress, formatStopOutcome } from '../format-progress.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownBudget, waitForShutdownSignal } from '../shutdown-signal.js';
import { checkDirectPlan } from './direct-plan-record.js';
import { runRdbImport } from './import-command.js';

export interface RunCommandOptions {
  /** in-process single-shard sync with file checkpoints, no queue (standalone source only) */
  direct?: boolean;
  /** all-in-one mode: an existing queue Redis instead of the embedded one */
  queue?: QueueConnection;
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
  /**
   * Bound on the stop after SIGINT/SIGTERM: the shards get half of it to flush and checkpoint, and the process
   * exits when it has passed, saying what it did not save. @defaultValue 20000
   */
  shutdownTimeoutMs?: number;
  /**
   * plan again from the file over a stored plan of the same name (all-in-one), or forget a checkpoint made with
   * another plan (`--direct`). @defaultValue false
   */
  replan?: boolean;
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
    if (error instanceof PlanValidationError) throw new PlanFileError(path, error.issues);
    throw error;
  }
}

/**
 * Builds the one-shard sync a standalone source needs, through the same job-data path a worker uses, so
 * `--direct` honours every connection setting of the plan (NAT mapping, TLS, secrets) exactly as workers do, and
 * picks the same engine for the plan's mode (ScanSync for `scan`). The job data never leaves this process, so
 * literal passwords are fine here.
 */
export function shardSyncFromPlan(
  plan: Plan,
  options: {
    checkpointDir: string;
    logger: Logger;
    onProgress?: (p: ShardProgress) => void;
    maxReconnects?: number;
    progressIntervalMs?: number;
    /** see ShardSyncOptions.stopTimeoutMs. @defaultValue 10000 */
    stopTimeoutMs?: number;
  },
): ShardEngine {
  const source = liveSourceOf(plan);
  const seed = source.seeds[0];
  const mapper = new NatMapper(source.natMap, { natRules: source.natRules });
  const { username, password, tls } = source;
  const data: ShardJobData = {
    planId: plan.name,
    planName: plan.name,
    shardId: `${plan.name}-0`,
    nodeId: null,
    slots: [[0, SLOT_COUNT - 1]],
    announced: seed,
    reachable: formatHostPort(mapper.map(parseHostPort(seed)!).reachable),
    source: { username, password, tls },
    ...syncSettingsOf(plan),
    configureSource: source.configureSource,
    target: {
      type: plan.target.type,
      seeds: plan.target.seeds,
      username: plan.target.username,
      password: plan.target.password,
      tls: plan.target.tls,
      natMap: plan.target.natMap,
      natRules: plan.target.natRules,
      rewrite: plan.target.rewrite,
      bigKeyThreshold: plan.target.bigKeyThreshold,
      crossSlot: plan.target.crossSlot,
      exactlyOnce: plan.target.exactlyOnce,
      window: plan.target.window,
    },
  };
  return shardEngineForJob(
    data,
    { checkpoints: new FileCheckpointStore(options.checkpointDir), logger: options.logger },
    {
      onProgress: options.onProgress,
      progressIntervalMs: options.progressIntervalMs,
      maxReconnectAttempts: options.maxReconnects,
      stopTimeoutMs: options.stopTimeoutMs,
      // one shard: the plan's caps whole (a --direct process has no API to change them while it runs)
      rateCaps: shardCapsOf(plan.caps, data.shardId, 1),
    },
  );
}

/**
 * `shardbridge run <plan.json>`: full sync, then incremental until SIGINT/SIGTERM, which stop gracefully
 * (flush, checkpoint, exit 0); with the plan's `mode: "full"`, `--direct` exits 0 once the full sync is complete. All-in-one (coordinator + workers + embedded queue) unless `--direct`.
 */
export async function runCommand(planPath: string, options: RunCommandOptions): Promise<void> {
  const plan = await loadPlan(planPath);
  if (plan.source.type === 'rdb') {
    // A file has no shards and no live stream: one in-process import, with or without --direct.
    await runRdbImport(plan.source.path, targetWriterOptions(plan.target), {
      progressIntervalMs: options.progressIntervalMs ?? 2000,
      rewrite: plan.target.rewrite,
      bigKeyThreshold: plan.target.bigKeyThreshold,
    });
    return;
  }
  if (!options.direct) {
    // Loaded only here: the control plane (HTTP, queue UI, BullMQ) is not part of a --direct process.
    const { runAllInOne } = await import('./run-all-in-one.js');
    await runAllInOne(plan, {
      planPath,
      replan: options.replan,
      queue: options.queue,
      dataDir: options.dataDir,
      concurrency: options.concurrency ?? 4,
      logLevel: options.logLevel ?? 'info',
      progressIntervalMs: options.progressIntervalMs ?? 2000,
      shutdownTimeoutMs: options.shutdownTimeoutMs,
    });
    return;
  }
  if (plan.source.type !== 'standalone') {
    throw new CliError(
      '--direct syncs one standalone source; run a cluster source without --direct',
      EXIT_USAGE,
    );
  }
  const logger = pino(
    { level: options.logLevel ?? 'info', base: { plan: plan.name }, redact: LOG_REDACTION },
    pino.destination(2),
  );
  const checkpointDir = resolve(options.checkpointDir ?? '.shardbridge/checkpoints');
  // Scan mode keeps no checkpoint; every other mode resumes one, which must belong to this plan.
  if (plan.mode !== 'scan') {
    await checkDirectPlan(plan, {
      planPath,
      checkpointDir,
      shardId: `${plan.name}-0`,
      replan: options.replan,
    });
  }
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let lastLine = '';
  const sync = shardSyncFromPlan(plan, {
    checkpointDir,
    logger,
    maxReconnects: options.maxReconnects,
    progressIntervalMs: options.progressIntervalMs ?? 2000,
    stopTimeoutMs: shutdownBudget(shutdownTimeoutMs).shardStopMs,
    onProgress: (progress) => {
      const line = formatProgress(progress);
      if (line !== lastLine) process.stdout.write(`${line}\n`);
      lastLine = line;
    },
  });
  void waitForShutdownSignal({
    timeoutMs: shutdownTimeoutMs,
    action: 'stopping — flushing the target and saving the checkpoint',
    write: (line) => process.stdout.write(`${line}\n`),
  }).then(() => sync.stop());
  await sync.run();
  const { phase, keysWritten, scan } = sync.progress;
  if (phase === 'completed') {
    process.stdout.write(`full sync complete: ${keysWritten} keys written; the target equals the snapshot\n`);
    return;
  }
  process.stdout.write(
    scan
      ? `stopped after ${scan.keysScanned} keys scanned and ${scan.keysReread} re-read (scan mode keeps no checkpoint: a restart re-scans)\n`
      : `${formatStopOutcome(sync.stopOutcome ?? null, checkpointDir)}\n`,
  );
}
