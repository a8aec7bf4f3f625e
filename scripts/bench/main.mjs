/**
 * The bench runner: parses flags, runs the selected measures in order, prints each result as a table line and
 * writes them all to bench-results.json at the repo root. Every server and process it starts is stopped on the
 * way out, on success, on error and on SIGINT/SIGTERM.
 *
 * Measures (see each module's header for the exact definition):
 *   rdb     RDB parse rate, decode=true vs restorePayload only            (./rdb-parse.mjs)
 *   full    full-sync time, ShardSync vs native replica                   (./full-sync.mjs)
 *   stream  incremental command-stream throughput after the full sync     (./stream.mjs)
 *   bigkeys worker peak RSS while a big list and a big string are synced  (./big-keys.mjs)
 * `stream` needs a synced ShardSync, so `--only stream` still performs (and reports) the ShardSync full sync.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from './args.mjs';
import { measureNativeFullSync, measureShardSyncFullSync } from './full-sync.mjs';
import { measureBigKeys } from './big-keys.mjs';
import { measureRdbParse } from './rdb-parse.mjs';
import { Report } from './report.mjs';
import { releaseAll } from './resources.mjs';
import { measureStream } from './stream.mjs';
import { startServers } from './sync-session.mjs';

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
  let exitCode = 0;
  try {
    await runMeasures(report, options, root);
  } catch (error) {
    console.error(`bench: failed: ${error?.stack ?? error}`);
    report.meta.error = String(error?.message ?? error);
    exitCode = 1;
  } finally {
    await releaseAll();
  }
  const file = path.join(root, 'bench-results.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nbench: results written to ${file}`);
  return exitCode;
}

async function runMeasures(report, options, root) {
  const { measures } = options;
  if (measures.has('rdb')) await measureRdbParse(report, options, root);
  if (measures.has('bigkeys')) await measureBigKeys(report, options, root);
  if (!measures.has('full') && !measures.has('stream')) return;
  const servers = await startServers(options);
  const session = await measureShardSyncFullSync(report, servers);
  if (measures.has('full')) await measureNativeFullSync(report, servers);
  if (measures.has('stream')) await measureStream(report, servers, session, options);
  await session.stop();
}

function describeRun(options) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    redis: redisServerVersion(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    keys: options.keys,
    bigStringBytes: options.bigStringBytes,
    streamCommands: options.streamCommands,
    quick: options.quick,
    measures: [...options.measures],
  };
}

function redisServerVersion() {
  const output = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(output)?.[1] ?? 'unknown';
}
