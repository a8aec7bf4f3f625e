/**
 * `shardbridge run --direct` in its own process (what one worker does for one shard), so its RSS is the sync's
 * alone and several of them run on separate cores. Progress lines on stdout carry `acked <offset>`; the bench
 * polls them (printed every 50 ms) to know when the target holds everything.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { processCpuSeconds } from './cpu-time.mjs';
import { own, releaseNow } from './resources.mjs';

/**
 * @param {string} root repo root
 * @param {{ host: string, port: number }} source a standalone source
 * @param {{ type: 'standalone' | 'cluster', seeds: string[], bigKeyThreshold?: number | null }} target
 * @param {{ cpu?: number }} [placement] `cpu`: run the process on that core only (taskset)
 */
export async function runDirect(root, source, target, { cpu } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-bench-direct-'));
  const plan = path.join(dir, 'plan.json');
  const { bigKeyThreshold, ...targetSpec } = target;
  await writeFile(
    plan,
    JSON.stringify({
      name: 'bench',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { ...targetSpec, ...(bigKeyThreshold ? { bigKeyThreshold } : {}) },
    }),
  );
  const cli = path.join(root, 'apps', 'cli', 'dist', 'main.js');
  const args = [cli, 'run', '--direct', plan, '--checkpoint-dir', dir, '--progress-interval', '50'];
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS?.split(' ') ?? []), ...args];
  // With `cpu`, taskset execs node bound to that core (same pid): the pinned parallel measure.
  const [command, commandArgs] =
    cpu === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let stdout = '';
  let stderr = '';
  let readyAt = null;
  let cpuAtReady = Promise.resolve(0);
  child.stdout.on('data', (chunk) => {
    if (readyAt === null) cpuAtReady = processCpuSeconds(child.pid);
    readyAt ??= performance.now();
    stdout = (stdout + chunk).slice(-8192);
  });
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4096)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const statusField = async (field) => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  own(child, stop);
  return {
    child,
    /** performance.now() of the first progress line (the process is up and syncing), null before */
    readyAt: () => readyAt,
    /** CPU seconds (user + system) since the first progress line: Node's start-up is not counted */
    cpuSecondsSinceReady: async () => (await processCpuSeconds(child.pid)) - (await cpuAtReady),
    /** resident set size now (bytes) */
    rss: () => statusField('VmRSS'),
    /** peak resident set size so far (VmHWM, bytes) */
    peakRss: () => statusField('VmHWM'),
    /** the last acknowledged offset printed, or -1 */
    acked() {
      const acked = [...stdout.matchAll(/acked (-?\d+)/g)].pop();
      return acked ? Number(acked[1]) : -1;
    },
    /** Waits until the printed acknowledged offset reaches `offset`; throws if the process exits first. */
    async waitAcked(offset, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (this.acked() >= offset) return;
        if (child.exitCode !== null) {
          throw new Error(
            `bench: run --direct exited (${child.exitCode}): ${stderr.trim() || stdout.trim()}`,
          );
        }
        if (Date.now() > deadline) throw new Error(`bench: run --direct did not reach offset ${offset}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: () => releaseNow(stop),
  };
}
