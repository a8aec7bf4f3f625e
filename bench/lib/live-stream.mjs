/**
 * One live-stream measure of the wan scenario: with a sync already caught up in the command stream, redis-benchmark
 * writes to the source at full speed for `seconds`, then is killed; the sync then gets at most `catchUpSeconds` to
 * confirm the source's last offset. A sync that cannot keep up is a result, not a failure: what was left is
 * reported (bytes behind, and how long the rest would take at the rate the tail drained).
 *   replicated ops/s  commands the sync applied during the load window / window seconds;
 *   source ops/s      total_commands_processed delta on the source over the same window;
 *   lag               see ./lag-sampler.mjs; samples still unconfirmed at the end count with the time they had
 *                     waited (a lower bound), and `lagLowerBound` says so.
 */
import { performance } from 'node:perf_hooks';
import { percentile, sampleLag } from './lag-sampler.mjs';
import { startRedisBenchmark } from './redis-benchmark.mjs';
import { masterOffset } from './redis.mjs';
import { MB, round } from './report.mjs';
import { RssSampler } from './rss-sampler.mjs';
import { waitAcknowledged, waitCaughtUp } from './sync-session.mjs';

const SETTLE_TIMEOUT_MS = 30 * 60_000;

/** The load of issue 13's reproduction: three write tests, 16 connections, 16 commands pipelined on each. */
export const LIVE_LOAD = { tests: 'set,incr,lpush', args: ['-n', '200000', '-P', '16', '-c', '16'] };

/** The keys LIVE_LOAD writes (no `-r`: one key per test), deleted between measures so each full sync copies the same data. */
export const LIVE_LOAD_KEYS = ['key:__rand_int__', 'counter:__rand_int__', 'mylist'];

/**
 * @param {object} source testkit server the load writes to (asked directly, never through a proxy)
 * @param {{ progress: object }} sync a running ShardSync, in the command stream or about to be
 * @param {{ seconds: number, catchUpSeconds: number }} options
 */
export async function measureLiveStream(source, sync, { seconds, catchUpSeconds }) {
  await waitCaughtUp(sync, source, SETTLE_TIMEOUT_MS);
  const startOffset = await masterOffset(source);
  const startCommands = sync.progress.commandsApplied;
  const startSourceCommands = await sourceCommands(source);
  const rss = new RssSampler();
  const lag = sampleLag(source, sync);
  const started = performance.now();
  const benchmark = startRedisBenchmark(source, LIVE_LOAD);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await benchmark.stop();
  const loadEnded = performance.now();
  const loadSeconds = (loadEnded - started) / 1000;
  const windowCommands = sync.progress.commandsApplied - startCommands;
  const sourceOps = (await sourceCommands(source)) - startSourceCommands;
  const endOffset = await masterOffset(source);
  const ackedAtLoadEnd = sync.progress.acknowledgedOffset;
  const caughtUp = await waitAcknowledged(sync, endOffset, catchUpSeconds * 1000);
  const tailSeconds = (performance.now() - loadEnded) / 1000;
  const samples = await lag.stop();
  const memory = rss.stop();
  const acked = sync.progress.acknowledgedOffset;
  const behindBytes = Math.max(0, endOffset - acked);
  const tailBytesPerSecond = (acked - ackedAtLoadEnd) / Math.max(tailSeconds, 0.001);
  const lagMs = samples.map((s) => s.lagMs).sort((a, b) => a - b);
  return {
    loadSeconds: round(loadSeconds),
    replicatedOpsPerSecond: Math.round(windowCommands / loadSeconds),
    sourceOpsPerSecond: Math.round(sourceOps / loadSeconds),
    streamBytes: endOffset - startOffset,
    lagP50Ms: round(percentile(lagMs, 0.5), 1),
    lagP99Ms: round(percentile(lagMs, 0.99), 1),
    lagMaxMs: round(lagMs.at(-1) ?? 0, 1),
    lagMaxBytes: Math.max(0, ...samples.map((s) => s.lagBytes)),
    lagLowerBound: samples.some((s) => s.unconfirmed),
    caughtUp,
    tailSeconds: round(tailSeconds),
    behindBytes,
    /** seconds the rest would take at the tail's drain rate; null when caught up or nothing drained */
    estimatedRestSeconds:
      caughtUp || tailBytesPerSecond <= 0 ? null : Math.round(behindBytes / tailBytesPerSecond),
    tailMBps: round(tailBytesPerSecond / MB),
    rssPeakBytes: memory.peakBytes,
  };
}

async function sourceCommands(source) {
  return Number((await source.info('stats')).total_commands_processed);
}
