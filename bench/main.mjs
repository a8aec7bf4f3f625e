/**
 * The bench runner: parses flags, generates the dataset, runs the selected scenarios in a fixed order, prints
 * one table row per scenario and writes bench/results/<timestamp>.json (plus <timestamp>-lag.svg, the
 * incremental lag chart). A scenario that fails is shown as a failed row and the run goes on (exit code 1).
 * Every server and process it starts is stopped on the way out, on success, on error and on SIGINT/SIGTERM.
 *
 * Scenarios (see each module's header for the exact definition):
 *   parse        RDB parse rate (payload and decode mode), RESP decode rate     (./scenarios/parse-rates.mjs)
 *   full         full sync, ShardBridge vs native REPLICAOF                      (./scenarios/full-sync.mjs)
 *   incremental  redis-benchmark load while synced: ops/s, lag p50/p99           (./scenarios/incremental.mjs)
 *   cluster      copy into a 3-master cluster vs redis-cli --cluster import      (./scenarios/cluster-import.mjs)
 *   parallel     1 shard / 1 worker vs 2 shards / 2 workers                       (./scenarios/parallel.mjs)
 *   memory       worker peak RSS with a big list and a big string                (./scenarios/memory.mjs)
 *   wan          through a latency proxy: full sync vs native, live stream       (./scenarios/wan.mjs)
 * `incremental` continues the full sync's ShardSync, so `--only incremental` still performs that full sync; `cluster`
 * runs before it (the ShardSync idles), so it copies exactly the generated dataset.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from './lib/args.mjs';
import { lagChartSvg } from './lib/lag-chart.mjs';
import { Report } from './lib/report.mjs';
import { releaseAll } from './lib/resources.mjs';
import { startServers } from './lib/sync-session.mjs';
import { scenarioClusterImport } from './scenarios/cluster-import.mjs';
import { scenarioFullSync } from './scenarios/full-sync.mjs';
import { scenarioIncremental } from './scenarios/incremental.mjs';
import { scenarioMemory } from './scenarios/memory.mjs';
import { scenarioParallel } from './scenarios/parallel.mjs';
import { scenarioParseRates } from './scenarios/parse-rates.mjs';
import { scenarioWan } from './scenarios/wan.mjs';

/** Returns the process exit code. */
export async function main(argv, root) {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    console.error(error.message);
    return 2;
  }
  const stopOnSignal = (signal) => {
    console.error(`\nbench: ${signal}, cleaning up`);
    void releaseAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const report = new Report(describeRun(options));
  console.log(`bench: ${JSON.stringify(report.meta)}`);
  const stamp = report.meta.date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const resultsDir = path.join(root, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const files = {
    json: path.join(resultsDir, `${stamp}.json`),
    svg: path.join(resultsDir, `${stamp}-lag.svg`),
  };
  let failures = 0;
  const attempt = async (id, scenario, fn) => {
    try {
      return await fn();
    } catch (error) {
      failures += 1;
      console.error(`bench: ${id} failed: ${error?.stack ?? error}`);
      report.skip(id, scenario, `FAILED: ${String(error?.message ?? error).split('\n')[0]}`);
      return undefined;
    }
  };
  try {
    await runScenarios(report, options, root, attempt, files);
  } catch (error) {
    failures += 1;
    console.error(`bench: failed: ${error?.stack ?? error}`);
    report.meta.error = String(error?.message ?? error);
  } finally {
    await releaseAll();
  }
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${report.table()}\n\nbench: results written to ${path.relative(root, files.json)}`);
  return failures > 0 ? 1 : 0;
}

async function runScenarios(report, options, root, attempt, files) {
  const { scenarios } = options;
  if (['parse', 'full', 'incremental', 'cluster'].some((name) => scenarios.has(name))) {
    const servers = await startServers(options);
    report.meta.dataset = servers.dataset;
    if (scenarios.has('parse')) {
      await attempt('parse', '6. RDB parse, RESP decode', () => scenarioParseRates(report, servers, options));
    }
    const session =
      scenarios.has('full') || scenarios.has('incremental')
        ? await attempt('fullSync', '1. full sync', () =>
            scenarioFullSync(report, servers, { measureNative: scenarios.has('full') }),
          )
        : undefined;
    if (scenarios.has('cluster')) {
      await attempt('clusterImport', '2. copy into a 3-master cluster', () =>
        scenarioClusterImport(report, servers, root),
      );
    }
    if (session && scenarios.has('incremental')) {
      const values = await attempt('incremental', '3. incremental', () =>
        scenarioIncremental(report, servers, session, options),
      );
      if (values) {
        const title = `ShardBridge replication lag under redis-benchmark -P 16 (${options.seconds} s, ${report.meta.date.slice(0, 10)})`;
        await writeFile(files.svg, lagChartSvg(values.samples, { title, loadSeconds: values.loadSeconds }));
        console.log(`bench: lag chart written to ${path.relative(root, files.svg)}`);
      }
    }
    await session?.stop();
    await servers.target.release();
    await servers.source.release();
  }
  if (scenarios.has('parallel')) {
    await attempt('parallel', '4. shards in parallel', () => scenarioParallel(report, options, root));
  }
  if (scenarios.has('memory')) {
    await attempt('memory', '5. peak RSS with big keys', () => scenarioMemory(report, options, root));
  }
  if (scenarios.has('wan')) {
    await attempt('wan', '7. WAN link', () => scenarioWan(report, options));
  }
}

function describeRun(options) {
  const load = os.loadavg();
  return {
    date: new Date().toISOString(),
    node: process.version,
    redis: redisServerVersion(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    loadAverageAtStart: load.map((value) => Math.round(value * 100) / 100),
    quick: options.quick,
    keys: options.keys,
    seed: options.seed,
    seconds: options.seconds,
    parallelKeys: options.parallelKeys,
    bigListMiB: options.bigListMiB,
    bigStringMiB: options.bigStringMiB,
    wanRtts: options.wanRtts,
    wanKeys: options.wanKeys,
    wanSeconds: options.wanSeconds,
    wanCatchUpSeconds: options.wanCatchUpSeconds,
    scenarios: [...options.scenarios],
  };
}

function redisServerVersion() {
  const output = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(output)?.[1] ?? 'unknown';
}
