/**
 * Scenario 3 — incremental: with the ShardSync of scenario 1 already in the command stream, redis-benchmark
 * (`-t set,lpush,hset,zadd -P 16 -c 16 -r 100000`, looping) writes to the source at full speed for
 * `--seconds`, then is killed; the bench waits until the target acknowledged the source's last offset.
 *   replicated ops/s  commands ShardSync applied during the load window / window seconds (sustained rate);
 *   source ops/s      total_commands_processed delta on the source over the same window, for context;
 *   lag p50/p99/max   every 100 ms the source's master_repl_offset is sampled (INFO); a sample's lag is the time
 *                     from the INFO reply until ShardSync's acknowledged offset (confirmed by the target) reached
 *                     it. Also in bytes; the INFO round trip (time the loaded source took to answer) is kept
 *                     apart (sourceInfoRttP99Ms), it is not replication lag;
 *   tail              how long the target took to catch up after the load stopped;
 *   µs CPU/op         this process's CPU time (user + system) over load and tail / commands applied: the
 *                     sync's cost per command, much less sensitive to a loaded machine than the rates.
 * The lag samples are written as an SVG chart next to the results file.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fmt, MB, printHeading, round } from '../lib/report.mjs';
import { own, releaseNow } from '../lib/resources.mjs';
import { RssSampler } from '../lib/rss-sampler.mjs';
import { masterOffset } from '../lib/redis.mjs';
import { waitCaughtUp } from '../lib/sync-session.mjs';

const CATCH_UP_TIMEOUT_MS = 10 * 60_000;
const SAMPLE_INTERVAL_MS = 100;

export async function scenarioIncremental(report, { source }, { sync }, options) {
  printHeading(`Scenario 3: incremental, redis-benchmark SET/LPUSH/HSET/ZADD -P 16 for ${options.seconds} s`);
  await waitCaughtUp(sync, source, CATCH_UP_TIMEOUT_MS);
  const startOffset = await masterOffset(source);
  const startCommands = sync.progress.commandsApplied;
  const startSourceCommands = await sourceCommands(source);
  const rss = new RssSampler();
  const cpuBefore = process.cpuUsage();
  const lag = sampleLag(source, sync);
  const started = performance.now();
  const benchmark = startRedisBenchmark(source);
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  await benchmark.stop();
  const loadSeconds = (performance.now() - started) / 1000;
  const windowCommands = sync.progress.commandsApplied - startCommands;
  const sourceOps = (await sourceCommands(source)) - startSourceCommands;
  const endOffset = await waitCaughtUp(sync, source, CATCH_UP_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const samples = await lag.stop();
  const memory = rss.stop();
  const commands = sync.progress.commandsApplied - startCommands;
  const streamBytes = endOffset - startOffset;
  const lagMs = samples.map((s) => s.lagMs).sort((a, b) => a - b);
  const opsPerSecond = windowCommands / loadSeconds;
  const values = {
    loadSeconds: round(loadSeconds),
    tailSeconds: round(seconds - loadSeconds),
    commands,
    replicatedOpsPerSecond: Math.round(opsPerSecond),
    sourceOpsPerSecond: Math.round(sourceOps / loadSeconds),
    streamBytes,
    MBps: round(streamBytes / MB / seconds),
    lagP50Ms: round(percentile(lagMs, 0.5), 1),
    lagP99Ms: round(percentile(lagMs, 0.99), 1),
    lagMaxMs: round(lagMs.at(-1) ?? 0, 1),
    lagMaxBytes: Math.max(0, ...samples.map((s) => s.lagBytes)),
    sourceInfoRttP99Ms: round(
      percentile(
        samples.map((s) => s.rttMs).sort((a, b) => a - b),
        0.99,
      ),
      1,
    ),
    rssPeakBytes: memory.peakBytes,
    cpuMicrosPerOp: round((cpu.user + cpu.system) / Math.max(1, commands), 2),
    samples: samples.map((s) => [round(s.atMs, 0), round(s.lagMs, 1), s.lagBytes]),
  };
  report.row(
    'incremental',
    {
      scenario: `3. incremental, ${options.seconds} s of redis-benchmark -P 16`,
      ours: `${fmt.count(values.replicatedOpsPerSecond)} ops/s, lag p50 ${values.lagP50Ms} ms / p99 ${
        values.lagP99Ms
      } ms, tail ${fmt.seconds(values.tailSeconds)}, ${values.cpuMicrosPerOp} µs CPU/op`,
      reference: `source took ${fmt.count(values.sourceOpsPerSecond)} ops/s`,
      ratio: `replicated/source ${fmt.ratio(opsPerSecond / Math.max(1, values.sourceOpsPerSecond))}`,
      goal: '≥ 150k ops/s, p99 < 50 ms',
    },
    values,
  );
  return values;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sourceCommands(source) {
  return Number((await source.info('stats')).total_commands_processed);
}

/** redis-benchmark looping over the four write tests until stop(). */
function startRedisBenchmark(source) {
  const args = ['-h', source.host, '-p', String(source.port), '-t', 'set,lpush,hset,zadd'];
  args.push('-n', '200000', '-P', '16', '-c', '16', '-r', '100000', '-l', '-q');
  const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2048)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.once('error', (error) => (stderr += String(error)));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  own(child, kill);
  return {
    async stop() {
      const early = child.exitCode !== null;
      await releaseNow(kill);
      if (early) throw new Error(`bench: redis-benchmark exited early: ${stderr.trim()}`);
    },
  };
}

/**
 * Every 100 ms reads master_repl_offset (one connection); a 2 ms poll of the in-process ShardSync's
 * acknowledged offset stamps when each sample was confirmed. stop() returns the samples (those never
 * confirmed are dropped; the caller waited for catch-up first, so there are none).
 */
function sampleLag(source, sync) {
  const client = source.client();
  const origin = performance.now();
  const pending = [];
  const samples = [];
  let running = true;
  const confirm = setInterval(() => {
    const acked = sync.progress.acknowledgedOffset;
    const now = performance.now();
    while (pending.length > 0 && pending[0].offset <= acked) {
      const sample = pending.shift();
      samples.push({
        atMs: sample.at - origin,
        lagMs: now - sample.at,
        lagBytes: sample.lagBytes,
        rttMs: sample.rttMs,
      });
    }
  }, 2);
  const loop = (async () => {
    while (running) {
      const asked = performance.now();
      const info = await client.info('replication');
      // The clock starts when the offset is known: INFO waits in the loaded source's queue for a while, and that
      // wait is the source's latency, not the sync's. Its round trip is kept per sample (rttMs).
      const at = performance.now();
      const rttMs = at - asked;
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
      const acked = sync.progress.acknowledgedOffset;
      if (offset > acked) pending.push({ at, offset, lagBytes: offset - acked, rttMs });
      else samples.push({ atMs: at - origin, lagMs: 0, lagBytes: 0, rttMs });
      const wait = SAMPLE_INTERVAL_MS - (performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  })();
  loop.catch(() => undefined); // stop() rethrows; until then a failed probe must not be an unhandled rejection
  return {
    async stop() {
      running = false;
      await loop;
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(confirm);
      client.disconnect();
      return samples.sort((a, b) => a.atMs - b.atMs);
    },
  };
}
