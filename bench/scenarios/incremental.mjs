/**
 * Scenario 3 — incremental: with the ShardSync of scenario 1 already in the command stream, redis-benchmark
 * (`-t set,lpush,hset,zadd -P 16 -c 16 -r 100000`, looping) writes to the source at full speed for
 * `--seconds`, then is killed; the bench waits until the target acknowledged the source's last offset.
 *   replicated ops/s  commands ShardSync applied during the load window / window seconds (sustained rate);
 *   source ops/s      total_commands_processed delta on the source over the same window, for context;
 *   lag p50/p99/max   every 100 ms the source's master_repl_offset is sampled (INFO); a sample's lag is the time
 *                     from the INFO reply until ShardSync's acknowledged offset (confirmed by the target) reached
 *                     it (../lib/lag-sampler.mjs). Also in bytes; the INFO round trip (time the loaded source took
 *                     to answer) is kept apart (sourceInfoRttP99Ms), it is not replication lag;
 *   tail              how long the target took to catch up after the load stopped;
 *   µs CPU/op         this process's CPU time (user + system) over load and tail / commands applied: the
 *                     sync's cost per command, much less sensitive to a loaded machine than the rates.
 * The lag samples are written as an SVG chart next to the results file.
 */
import { performance } from 'node:perf_hooks';
import { percentile, sampleLag } from '../lib/lag-sampler.mjs';
import { startRedisBenchmark } from '../lib/redis-benchmark.mjs';
import { fmt, MB, printHeading, round } from '../lib/report.mjs';
import { RssSampler } from '../lib/rss-sampler.mjs';
import { masterOffset } from '../lib/redis.mjs';
import { waitCaughtUp } from '../lib/sync-session.mjs';

const CATCH_UP_TIMEOUT_MS = 10 * 60_000;
/** redis-benchmark looping over the four write tests */
const LOAD = { tests: 'set,lpush,hset,zadd', args: ['-n', '200000', '-P', '16', '-c', '16', '-r', '100000'] };

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
  const benchmark = startRedisBenchmark(source, LOAD);
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

async function sourceCommands(source) {
  return Number((await source.info('stats')).total_commands_processed);
}
