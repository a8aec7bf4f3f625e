/**
 * The source/target pair the full-sync and stream measures share, and the ShardSync replicating between them.
 * The ShardSync runs in this process, so the RSS samples are the worker's footprint. It is built from shard job
 * data, as a worker and `run --direct` build theirs, so plan settings (`target.exactlyOnce`) mean what they mean
 * there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { FileCheckpointStore, shardEngineForJob } from '@shardbridge/worker';
import { generateDataset } from './dataset.mjs';
import { own } from './resources.mjs';
import { startServer, waitFor } from './redis.mjs';

/** Source holding the generated dataset (`options.keys`, `options.seed`); target empty. */
export async function startServers(options) {
  const source = await startServer();
  const target = await startServer();
  const started = performance.now();
  const counts = await generateDataset(source.client(), { keys: options.keys, seed: options.seed });
  const seconds = (performance.now() - started) / 1000;
  console.log(`bench: dataset ${JSON.stringify(counts)} written in ${seconds.toFixed(1)} s`);
  return { source, target, dataset: counts };
}

/**
 * Starts a ShardSync source -> target (standalone both, at the addresses given: a proxy's, for the wan scenario);
 * stopped by releaseAll() unless `stop()` ran first.
 * @param {{ host: string, port: number }} source
 * @param {{ host: string, port: number }} target
 * @param {{ exactlyOnce?: boolean }} [settings] the plan's `target.exactlyOnce`
 */
export async function startShardSync(source, target, { exactlyOnce = false } = {}) {
  const checkpointDir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-bench-'));
  const address = `${source.host}:${source.port}`;
  const sync = shardEngineForJob(
    {
      planId: 'bench',
      planName: 'bench',
      shardId: 'bench',
      nodeId: null,
      slots: [[0, 16383]],
      announced: address,
      reachable: address,
      source: { tls: false },
      target: {
        type: 'standalone',
        seeds: [`${target.host}:${target.port}`],
        tls: false,
        ...(exactlyOnce ? { exactlyOnce: true } : {}),
      },
    },
    { checkpoints: new FileCheckpointStore(checkpointDir), logger: pino({ level: 'warn' }) },
  );
  const running = sync.run();
  // A failure is surfaced by the next wait (it checks phase) and by stop(); never as an unhandled rejection.
  running.catch(() => undefined);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await sync.stop();
    await running;
    await rm(checkpointDir, { recursive: true, force: true });
  };
  own(sync, stop);
  return { sync, running, stop };
}

/**
 * Waits until the target confirmed every byte the source has produced so far: first the sync must reach the
 * command stream, then its acknowledged offset must reach master_repl_offset read at that moment.
 * Returns that offset.
 */
export async function waitCaughtUp(sync, source, timeoutMs) {
  await waitFor('phase incremental', () => phaseOrThrow(sync) === 'incremental', { timeoutMs });
  const target = Number((await source.info('replication')).master_repl_offset);
  await waitFor(
    `acknowledged offset ${target}`,
    () => phaseOrThrow(sync) && sync.progress.acknowledgedOffset >= target,
    { timeoutMs },
  );
  return target;
}

/**
 * Waits until the sync's acknowledged offset reaches `offset`: true once it does, false when `timeoutMs` passed
 * first (a sync that falls behind is a result, not an error); throws if the sync failed or stopped.
 */
export async function waitAcknowledged(sync, offset, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (phaseOrThrow(sync) && sync.progress.acknowledgedOffset < offset) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function phaseOrThrow(sync) {
  const { phase, lastError } = sync.progress;
  if (phase === 'failed' || phase === 'stopped') {
    throw new Error(
      `bench: ShardSync ${phase}${lastError ? `: ${lastError.code} ${lastError.message}` : ''}`,
    );
  }
  return phase;
}
