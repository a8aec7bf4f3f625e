import { resolve } from 'node:path';
import { pino } from 'pino';
import { LOG_REDACTION, type Plan } from '@shardbridge/plan';
import type { QueueConnection, ShardProgress } from '@shardbridge/worker';
import { ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { startEmbeddedControlPlane } from '../embedded/control-plane.js';
import { formatProgress } from '../format-progress.js';
import { choosePlan } from './run-plan-choice.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownBudget, waitForShutdownSignal } from '../shutdown-signal.js';

export interface RunAllInOneOptions {
  /** the plan file's path, for messages */
  planPath: string;
  /** plan again from the file over a stored plan of the same name (`--replan`). @defaultValue false */
  replan?: boolean;
  queue?: QueueConnection;
  /** @defaultValue `.shardbridge` */
  dataDir?: string;
  concurrency: number;
  logLevel: string;
  progressIntervalMs: number;
  /** bound on the stop after SIGINT/SIGTERM (see RunCommandOptions). @defaultValue 20000 */
  shutdownTimeoutMs?: number;
}

type ShardView = Omit<ShardProgress, 'shardId'> & { id: string };
interface PlanView {
  id: string;
  name: string;
  state: string;
  shards: ShardView[];
}

/**
 * A literal password or TLS private key in a local plan file is moved into this process's environment and
 * replaced by an `env:` reference, so it never lands in the queue's Redis: the in-process workers resolve it
 * from the same environment.
 */
function withSecretReferences(plan: Plan): Plan {
  let counter = 0;
  const hide = (value: string | undefined): string | undefined => {
    if (value === undefined || value.startsWith('env:') || value.startsWith('file:')) return value;
    const name = `SHARDBRIDGE_RUN_SECRET_${counter++}`;
    process.env[name] = value;
    return `env:${name}`;
  };
  const tls = <T extends Plan['target']['tls']>(spec: T): T =>
    typeof spec === 'object' && spec.key !== undefined ? { ...spec, key: hide(spec.key) } : spec;
  return {
    ...plan,
    source:
      plan.source.type === 'rdb'
        ? plan.source
        : { ...plan.source, password: hide(plan.source.password), tls: tls(plan.source.tls) },
    target: { ...plan.target, password: hide(plan.target.password), tls: tls(plan.target.tls) },
  };
}

/**
 * `shardbridge run <plan>`: coordinator + workers + queue in one process. A plan of the same name already in the
 * queue is resumed (its shards continue from their checkpoints) when the file still says the same, and refused
 * otherwise (see `choosePlan`; `--replan` plans again from the file). SIGINT/SIGTERM stops every
 * shard gracefully (flush, checkpoint) and exits 0; a failed shard stops the rest and exits 1. A plan with
 * `mode: "full"` exits 0 once every shard completed its full sync.
 */
export async function runAllInOne(plan: Plan, options: RunAllInOneOptions): Promise<void> {
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const logger = pino(
    { level: options.logLevel, base: { plan: plan.name }, redact: LOG_REDACTION },
    pino.destination(2),
  );
  const controlPlane = await startEmbeddedControlPlane({
    queue: options.queue,
    deferWorkers: true,
    dataDir: resolve(options.dataDir ?? '.shardbridge'),
    concurrency: options.concurrency,
    logger,
    stopTimeoutMs: shutdownBudget(shutdownTimeoutMs).workerStopMs,
  });
  const api = new ApiClient(controlPlane.url, undefined);
  let failure: Error | null = null;
  let completed = false;
  let lastView: PlanView | null = null;
  try {
    process.stdout.write(
      `queue ${controlPlane.queueUrl}${controlPlane.queueReused ? ' (reused)' : ''}; API ${controlPlane.url}\n`,
    );
    const choice = await choosePlan(api, withSecretReferences(plan), {
      planPath: options.planPath,
      replan: options.replan,
    });
    const planId = choice.planId;
    if (choice.how === 'resumed') {
      process.stdout.write(`resuming plan ${planId} (${plan.name}) from its checkpoints\n`);
    } else {
      process.stdout.write(
        `plan ${planId} (${plan.name}): ${choice.shardCount} shard(s)` +
          `${choice.how === 'replanned' ? ', planned again from the file (previous plan deleted)' : ''}\n`,
      );
    }
    // Only now may a worker take a job: every queued job belongs to the plan the file describes.
    await controlPlane.startWorkers();
    const signal = waitForShutdownSignal({
      timeoutMs: shutdownTimeoutMs,
      action: 'stopping every shard — flushing the target and saving checkpoints',
      write: (line) => process.stdout.write(`${line}\n`),
    });
    let stopping = false;
    // Past the shards' own bound the loop stops waiting for their reports; close() hands back what is left.
    let stopDeadline = Infinity;
    void signal.then(() => {
      stopping = true;
      stopDeadline = Date.now() + shutdownBudget(shutdownTimeoutMs).shardStopMs + 2000;
      return api.request('POST', `/v1/plans/${planId}/stop`).catch(() => undefined);
    });
    const printed = new Map<string, string>();
    for (;;) {
      const view = await api.request<PlanView>('GET', `/v1/plans/${planId}`);
      lastView = view;
      for (const shard of view.shards) {
        const line = formatProgress({ ...shard, shardId: shard.id });
        if (printed.get(shard.id) !== line) process.stdout.write(`${line}\n`);
        printed.set(shard.id, line);
      }
      const failed = view.shards.find((shard) => shard.phase === 'failed');
      if (failed && !stopping) {
        failure = new CliError(failed.lastError?.message ?? `shard ${failed.id} failed`);
        await api.request('POST', `/v1/plans/${planId}/stop`).catch(() => undefined);
        break;
      }
      if (
        stopping &&
        view.shards.every((shard) => ['stopped', 'completed', 'failed', 'queued'].includes(shard.phase))
      )
        break;
      if (stopping && Date.now() > stopDeadline) break;
      // mode "full": every shard loaded its RDB and the target confirmed it.
      if (view.shards.length > 0 && view.shards.every((shard) => shard.phase === 'completed')) {
        completed = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, options.progressIntervalMs));
    }
  } finally {
    await controlPlane.close();
  }
  if (failure) throw failure;
  if (completed) {
    process.stdout.write('full sync complete: every shard loaded its RDB into the target\n');
    return;
  }
  process.stdout.write(`${stoppedSummary(lastView)}\n`);
}

/** The last line after a stop: which shards kept a checkpoint, and which did not (never claims one that is not). */
function stoppedSummary(view: PlanView | null): string {
  const shards = view?.shards ?? [];
  const without = shards.filter((shard) => shard.acknowledgedOffset < 0);
  if (shards.length === 0 || without.length === 0) return 'stopped; run again to resume from the checkpoints';
  const loaded = without.map((shard) => `${shard.id} (${shard.keysWritten} keys loaded)`).join(', ');
  return (
    `stopped; no checkpoint for ${loaded}: stopped during the full sync, the keys loaded are kept on the target ` +
    `and the next run starts a new full sync for ${without.length === 1 ? 'it' : 'them'}` +
    (without.length < shards.length ? '; the other shards resume from their checkpoints' : '')
  );
}
