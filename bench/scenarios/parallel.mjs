/**
 * Scenario 4 — shards in parallel: full-sync throughput of one shard synced by one worker vs two shards
 * synced at once by two workers (each a `shardbridge run --direct` process, so each gets its own core).
 * Both shards hold the same generated dataset (`--parallel-keys` keys; the second source is a native copy of the
 * first, promoted), each has its own empty standalone target.
 *   throughput  keys copied / seconds from the first progress line of the earliest worker (process up, so
 *               Node's start-up is not counted) until every target acknowledged its source;
 *   ratio       (2-shard throughput / 1-shard throughput) / 2, i.e. how much of a second core the second worker
 *               turns into throughput (goal >= 0.8). On a 2-core machine the redis-servers compete for the same
 *               cores, so this understates what separate machines would do.
 *   cores busy  CPU seconds of every process in the measure (workers, sources with their RDB fork, targets)
 *               per wall second. When one shard already keeps the machine's cores busy, a second cannot double
 *               the throughput whatever the sync does; then
 *   per CPU     (2-shard keys per CPU second) / (1-shard keys per CPU second): whether running shards side by
 *               side costs CPU beyond their own (1.0 = none). Reported next to the ratio, never instead of it.
 *   pinned      the same two runs again with each shard (its worker, source with RDB fork, and target) bound to
 *               a core of its own by taskset: 1 shard on 1 core vs 2 shards on 2 cores, so the ratio asks
 *               exactly what a second core buys. Needs >= 2 cores and taskset; otherwise left out.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateDataset } from '../lib/dataset.mjs';
import { fmt, printHeading, round } from '../lib/report.mjs';
import { masterOffset, startServer, waitFor } from '../lib/redis.mjs';
import { runDirect } from '../lib/run-direct.mjs';
import { serverCpuSeconds } from '../lib/cpu-time.mjs';

const TIMEOUT_MS = 60 * 60_000;

export async function scenarioParallel(report, options, root) {
  printHeading(
    `Scenario 4: 1 shard / 1 worker vs 2 shards / 2 workers, ${fmt.count(options.parallelKeys)} keys each`,
  );
  const first = await startServer();
  await generateDataset(first.client(), { keys: options.parallelKeys, seed: options.seed + 1 });
  const second = await copyOf(first);
  const keys = await first.client().dbsize();

  const one = await timeSyncs(root, [first]);
  const two = await timeSyncs(root, [first, second]);
  const single = keys / one.seconds;
  const double = (2 * keys) / two.seconds;
  const ratio = double / single / 2;
  const canPin = os.cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
  const pinnedOne = canPin ? await timeSyncs(root, [first], { pinned: true }) : null;
  const pinnedTwo = canPin ? await timeSyncs(root, [first, second], { pinned: true }) : null;
  const pinnedRatio = pinnedOne && pinnedTwo ? pinnedOne.seconds / pinnedTwo.seconds : null;
  const perCpu = (2 * keys) / two.cpuSeconds / (keys / one.cpuSeconds);
  const coresBusy = (run) => run.cpuSeconds / run.seconds;
  report.row(
    'parallel',
    {
      scenario: `4. shards in parallel, ${fmt.count(keys)} keys per shard`,
      ours: `2 shards: ${fmt.rate(2 * keys, two.seconds, 'keys')} (${fmt.seconds(two.seconds)}, ${coresBusy(two).toFixed(2)} cores busy)`,
      reference: `1 shard: ${fmt.rate(keys, one.seconds, 'keys')} (${fmt.seconds(one.seconds)}, ${coresBusy(one).toFixed(2)} cores busy)`,
      ratio:
        `per core ${fmt.ratio(ratio)}; per CPU second ${fmt.ratio(perCpu)}` +
        (pinnedRatio === null ? '' : `; a core per shard ${fmt.ratio(pinnedRatio)}`),
      goal: '≥ 0.8',
    },
    {
      keysPerShard: keys,
      cores: os.cpus().length,
      oneShard: {
        seconds: round(one.seconds),
        keysPerSecond: Math.round(single),
        cpuSeconds: round(one.cpuSeconds),
        cpuSecondsBy: one.cpuBreakdown,
        coresBusy: round(coresBusy(one)),
      },
      twoShards: {
        seconds: round(two.seconds),
        keysPerSecond: Math.round(double),
        cpuSeconds: round(two.cpuSeconds),
        cpuSecondsBy: two.cpuBreakdown,
        coresBusy: round(coresBusy(two)),
      },
      ratioPerCore: round(ratio),
      keysPerCpuSecondRatio: round(perCpu),
      pinned:
        pinnedRatio === null
          ? null
          : {
              oneShardOneCore: {
                seconds: round(pinnedOne.seconds),
                keysPerSecond: Math.round(keys / pinnedOne.seconds),
              },
              twoShardsTwoCores: {
                seconds: round(pinnedTwo.seconds),
                keysPerSecond: Math.round((2 * keys) / pinnedTwo.seconds),
              },
              ratioPerCore: round(pinnedRatio),
            },
    },
  );
  await Promise.all([first.release(), second.release()]);
}

/** Binds running processes to `cpus` (a taskset list such as "1" or "0-1"). */
function pin(pids, cpus) {
  for (const pid of pids) {
    const result = spawnSync('taskset', ['-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error(`bench: taskset -p -c ${cpus} ${pid} failed: ${result.stderr.trim()}`);
  }
}

/** A second server holding the same data: native full sync, then promoted. */
async function copyOf(server) {
  const copy = await startServer();
  const client = copy.client();
  const keys = await server.client().dbsize();
  await client.call('REPLICAOF', server.host, String(server.port));
  await waitFor(
    'copy of the parallel source',
    async () =>
      (await copy.info('replication')).master_link_status === 'up' && (await client.dbsize()) === keys,
    { timeoutMs: TIMEOUT_MS, intervalMs: 50 },
  );
  await client.call('REPLICAOF', 'NO', 'ONE');
  return copy;
}

/**
 * Runs one worker per source, all at once, each into a fresh target; seconds until all acknowledged. `pinned`:
 * shard i (worker, source, target) runs on core i only; the sources get every core back afterwards.
 */
async function timeSyncs(root, sources, { pinned = false } = {}) {
  const targets = await Promise.all(sources.map(() => startServer()));
  if (pinned) sources.forEach((source, i) => pin([source.pid, targets[i].pid], String(i)));
  const offsets = await Promise.all(sources.map((source) => masterOffset(source)));
  const servers = [...sources, ...targets];
  const serversCpuBefore = await Promise.all(servers.map(serverCpuSeconds));
  const runs = await Promise.all(
    sources.map((source, i) =>
      runDirect(
        root,
        source,
        { type: 'standalone', seeds: [`${targets[i].host}:${targets[i].port}`] },
        pinned ? { cpu: i } : {},
      ),
    ),
  );
  await Promise.all(runs.map((run, i) => run.waitAcked(offsets[i], TIMEOUT_MS)));
  const ended = performance.now();
  const started = Math.min(...runs.map((run) => run.readyAt() ?? ended));
  const seconds = (ended - started) / 1000;
  const workersCpu = await Promise.all(runs.map((run) => run.cpuSecondsSinceReady()));
  // Redis reaps the RDB fork in its cron (10 times a second): give it time so the fork's CPU is counted.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const serversCpuAfter = await Promise.all(servers.map(serverCpuSeconds));
  const sum = (values) => values.reduce((total, value) => total + value, 0);
  const serversCpu = serversCpuAfter.map((cpu, i) => cpu - serversCpuBefore[i]);
  const cpuBreakdown = {
    workers: round(sum(workersCpu)),
    sources: round(sum(serversCpu.slice(0, sources.length))),
    targets: round(sum(serversCpu.slice(sources.length))),
  };
  const cpuSeconds = sum(workersCpu) + sum(serversCpu);
  await Promise.all(runs.map((run) => run.stop()));
  await Promise.all(targets.map((target) => target.release()));
  if (pinned)
    pin(
      sources.map((source) => source.pid),
      `0-${os.cpus().length - 1}`,
    );
  return { seconds, cpuSeconds, cpuBreakdown };
}
