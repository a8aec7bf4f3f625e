/**
 * Measure 3 — incremental throughput: with the ShardSync already in the command stream, `redis-benchmark -t set
 * -P 16 -c 4 -r 100000` writes to the source; the clock runs from the first write until the target acknowledged
 * the source's master_repl_offset as it stood when the load ended.
 *   commands/s  replicated commands applied (ShardSync's count) per second of that window;
 *   MB/s        replication-stream bytes (master_repl_offset delta) per second of that window;
 *   lag peak    max of master_repl_offset - acknowledged offset, sampled every 100 ms;
 *   tail        how long the target took to catch up after the load stopped.
 * The source-side rate redis-benchmark itself reports is printed for context: when the two rates match, the
 * sync keeps up with the writer.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fmt, MB, printHeading, round } from './report.mjs';
import { own, releaseNow } from './resources.mjs';
import { RssSampler } from './rss-sampler.mjs';
import { masterOffset } from './redis.mjs';
import { waitCaughtUp } from './sync-session.mjs';

const CATCH_UP_TIMEOUT_MS = 10 * 60_000;

export async function measureStream(report, { source }, { sync }, options) {
  printHeading(`Incremental stream: redis-benchmark SET x ${fmt.count(options.streamCommands)} -> ShardSync`);
  await waitCaughtUp(sync, source, CATCH_UP_TIMEOUT_MS);
  const startOffset = await masterOffset(source);
  const startCommands = sync.progress.commandsApplied;
  const rss = new RssSampler();
  const lag = sampleLag(source, sync);
  const started = performance.now();
  const benchmark = await runRedisBenchmark(source, options.streamCommands);
  const loadSeconds = (performance.now() - started) / 1000;
  const endOffset = await waitCaughtUp(sync, source, CATCH_UP_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const lagPeakBytes = await lag.stop();
  const memory = rss.stop();
  const commands = sync.progress.commandsApplied - startCommands;
  const streamBytes = endOffset - startOffset;
  report.add(
    'stream.shardSync',
    {
      seconds: round(seconds),
      loadSeconds: round(loadSeconds),
      tailSeconds: round(seconds - loadSeconds),
      commands,
      commandsPerSecond: Math.round(commands / seconds),
      streamBytes,
      MBps: round(streamBytes / MB / seconds),
      lagPeakBytes,
      sourceRequestsPerSecond: benchmark.requestsPerSecond,
      rssPeakBytes: memory.peakBytes,
    },
    [
      fmt.seconds(seconds),
      `${fmt.count(commands)} cmds`,
      fmt.rate(commands, seconds, 'cmds'),
      `stream ${fmt.mb(streamBytes)}`,
      fmt.mbps(streamBytes, seconds),
      `lag peak ${fmt.mb(lagPeakBytes)}`,
      `tail ${fmt.seconds(seconds - loadSeconds)}`,
      `source ${fmt.count(Math.round(benchmark.requestsPerSecond ?? 0))} req/s`,
      `peak RSS ${fmt.mb(memory.peakBytes)}`,
    ],
  );
}

/** Runs redis-benchmark to completion; returns the requests/s it printed (null when not parsed). */
async function runRedisBenchmark(source, requests) {
  const args = ['-h', source.host, '-p', String(source.port), '-t', 'set', '-n', String(requests)];
  args.push('-P', '16', '-c', '4', '-r', '100000', '-q');
  const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  own(child, kill);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal));
  });
  await releaseNow(kill);
  if (code !== 0) throw new Error(`bench: redis-benchmark exited with ${code}: ${output.trim()}`);
  const rate = /SET: ([\d.]+) requests per second/.exec(output);
  return { requestsPerSecond: rate ? Number(rate[1]) : null };
}

/** Samples master_repl_offset - acknowledged offset every 100 ms over one connection; stop() returns the peak. */
function sampleLag(source, sync) {
  const client = source.client();
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const info = await client.info('replication');
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
      peak = Math.max(peak, offset - sync.progress.acknowledgedOffset);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  loop.catch(() => undefined); // stop() rethrows; until then a failed probe must not be an unhandled rejection
  return {
    async stop() {
      running = false;
      await loop;
      client.disconnect();
      return peak;
    },
  };
}
