#!/usr/bin/env node
/**
 * `npm run test:matrix`: runs the sync suites once per (source, target) pair of redis-server binaries and prints a
 * summary table. Never part of `npm test` (CI runs the normal suite, which is the 1x1 matrix of the binary on PATH).
 *
 * Binaries: `REDIS_SERVER_BINS`, colon-separated paths (Redis 7.0/7.2/7.4/8.x, Valkey 8, ...); default the
 * `redis-server` on PATH. Every ordered pair runs, same-binary pairs and newer→older included: the source side gets
 * `SHARDBRIDGE_SOURCE_REDIS_BIN`, the target side `SHARDBRIDGE_TARGET_REDIS_BIN` (read by the testkit for servers
 * started with `role: 'source' | 'target'`).
 *
 * Suites: `SHARDBRIDGE_MATRIX_SUITES` (space-separated test files) or the arguments; default the live sync suites
 * and the RDB import acceptance suite. A suite that only starts targets (the RDB import) runs once per target
 * binary, not once per pair. Per-pair logs go to a temporary directory named at the end.
 *
 * Exit code: 0 when every run passed, 1 otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');

const DEFAULT_SUITES = [
  'test/run-sync.test.ts',
  'test/run-all-in-one.test.ts',
  'test/run-cluster-target.test.ts',
  'test/rdb-import.test.ts',
];
/** Suites whose servers are all targets: their result does not depend on the source binary. */
const TARGET_ONLY_SUITES = new Set(['test/rdb-import.test.ts']);

const argSuites = process.argv.slice(2);
const envSuites = (process.env.SHARDBRIDGE_MATRIX_SUITES ?? '').split(/\s+/).filter(Boolean);
const suites = argSuites.length > 0 ? argSuites : envSuites.length > 0 ? envSuites : DEFAULT_SUITES;

const bins = (process.env.REDIS_SERVER_BINS ?? '').split(':').filter(Boolean);
if (bins.length === 0) bins.push(which('redis-server') ?? 'redis-server');

/** "redis 7.0.15" / "valkey 8.0.1", from `<bin> --version`. */
function versionOf(bin) {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    console.error(`test:matrix: cannot run ${bin} --version (${out.error?.message ?? out.stderr.trim()})`);
    process.exit(2);
  }
  const match = /^(\w+) server v=(\S+)/i.exec(out.stdout);
  return match ? `${match[1].toLowerCase()} ${match[2]}` : out.stdout.trim().slice(0, 40);
}

function which(name) {
  const out = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

const servers = bins.map((bin) => ({ bin, version: versionOf(bin) }));
const logDir = mkdtempSync(path.join(tmpdir(), 'shardbridge-matrix-'));

/** Runs vitest on `files` with the pair's binaries; resolves with counts from its JSON report. */
function runPair(source, target, files, index) {
  const report = path.join(logDir, `run-${index}.json`);
  const log = path.join(logDir, `run-${index}.log`);
  const env = {
    ...process.env,
    SHARDBRIDGE_SOURCE_REDIS_BIN: source.bin,
    SHARDBRIDGE_TARGET_REDIS_BIN: target.bin,
  };
  const args = [
    vitest,
    'run',
    ...files,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('close', (code) => {
      writeFileSync(log, Buffer.concat(output));
      let counts = { passed: 0, failed: 0, skipped: 0 };
      try {
        const json = JSON.parse(readFileSync(report, 'utf8'));
        counts = {
          passed: json.numPassedTests,
          failed: json.numFailedTests,
          skipped: json.numPendingTests + (json.numTodoTests ?? 0),
        };
      } catch {
        counts.failed = Math.max(1, counts.failed);
      }
      const ok = code === 0 && counts.failed === 0;
      resolve({ ...counts, ok, seconds: Math.round((Date.now() - started) / 1000), log });
    });
  });
}

const pairSuites = suites.filter((suite) => !TARGET_ONLY_SUITES.has(suite));
const targetSuites = suites.filter((suite) => TARGET_ONLY_SUITES.has(suite));
const rows = [];
let index = 0;
for (const target of servers) {
  for (const [sourceIndex, source] of servers.entries()) {
    const files = [...pairSuites, ...(sourceIndex === 0 ? targetSuites : [])];
    if (files.length === 0) continue;
    console.log(`test:matrix: ${source.version} -> ${target.version}: ${files.join(' ')}`);
    const result = await runPair(source, target, files, index++);
    rows.push({ source: source.version, target: target.version, suites: files.length, ...result });
  }
}

const header = ['source', 'target', 'suites', 'passed', 'failed', 'skipped', 'time', 'result', 'log'];
const table = [
  header,
  ...rows.map((row) => [
    row.source,
    row.target,
    String(row.suites),
    String(row.passed),
    String(row.failed),
    String(row.skipped),
    `${row.seconds}s`,
    row.ok ? 'PASS' : 'FAIL',
    row.log,
  ]),
];
const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column].length)));
const line = (cells) =>
  cells
    .map((cell, column) => cell.padEnd(widths[column]))
    .join('  ')
    .trimEnd();
console.log('');
console.log(line(table[0]));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const cells of table.slice(1)) console.log(line(cells));
console.log(`\nlogs and JSON reports: ${logDir}`);
process.exitCode = rows.every((row) => row.ok) ? 0 : 1;
