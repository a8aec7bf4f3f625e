/**
 * Measure 4 — memory with big keys: peak RSS (VmHWM) of a `shardbridge run --direct` process (what a worker
 * needs) while its full
 * sync copies one big list and one big string (random bytes, so LZF cannot shrink them in the RDB). Keys over
 * the default bigKeyThreshold (64 MiB) are written in parts into a scratch key and RENAMEd into place, so the
 * peak should not grow with the key size. Both keys are checked on the target (length) afterwards.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt, printHeading, round } from './report.mjs';
import { startServer } from './redis.mjs';

const MiB = 1024 * 1024;
const ELEMENT_BYTES = 1024;

export async function measureBigKeys(report, options, root) {
  printHeading(
    `Big keys: a ${options.bigListMiB} MiB list and a ${options.bigStringMiB} MiB string, worker peak RSS`,
  );
  const source = await startServer();
  const target = await startServer();
  const client = source.client();
  const perCommand = 1024;
  for (let written = 0; written < options.bigListMiB * MiB; written += perCommand * ELEMENT_BYTES) {
    await client.rpush(
      'bench:big:list',
      ...Array.from({ length: perCommand }, () => randomBytes(ELEMENT_BYTES)),
    );
  }
  for (let written = 0; written < options.bigStringMiB * MiB; written += MiB) {
    await client.append('bench:big:string', randomBytes(MiB));
  }
  const started = performance.now();
  const run = await runDirect(root, source, target);
  const offset = Number((await source.info('replication')).master_repl_offset);
  await run.waitAcked(offset, 60 * 60_000);
  const seconds = (performance.now() - started) / 1000;
  const memory = { baselineBytes: run.baselineRss, peakBytes: await run.peakRss() };
  await run.stop();
  const targetClient = target.client();
  const listOk = (await targetClient.llen('bench:big:list')) === (await client.llen('bench:big:list'));
  const stringOk = (await targetClient.strlen('bench:big:string')) === options.bigStringMiB * MiB;
  report.add(
    'bigKeys.shardSync',
    {
      listMiB: options.bigListMiB,
      stringMiB: options.bigStringMiB,
      seconds: round(seconds),
      baselineRssBytes: memory.baselineBytes,
      peakRssBytes: memory.peakBytes,
      keysMatch: listOk && stringOk,
    },
    [
      `${round(seconds)} s`,
      `peak RSS ${fmt.mb(memory.peakBytes)} (baseline ${fmt.mb(memory.baselineBytes)})`,
      listOk && stringOk ? 'keys equal' : 'KEYS DIFFER',
    ],
  );
  await Promise.all([source.release(), target.release()]);
}

/**
 * `shardbridge run --direct` from source to target in its own process, so its peak RSS is the sync's alone.
 * Progress lines on stdout carry `acked <offset>`.
 */
async function runDirect(root, source, target) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-bench-big-'));
  const plan = path.join(dir, 'plan.json');
  await writeFile(
    plan,
    JSON.stringify({
      name: 'bench-big',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: {
        type: 'standalone',
        seeds: [`${target.host}:${target.port}`],
        ...(process.env.BENCH_BIG_KEY_THRESHOLD
          ? { bigKeyThreshold: Number(process.env.BENCH_BIG_KEY_THRESHOLD) }
          : {}),
      },
    }),
  );
  const cli = path.join(root, 'apps', 'cli', 'dist', 'main.js');
  const child = spawn(
    process.execPath,
    [cli, 'run', '--direct', plan, '--checkpoint-dir', dir, '--progress-interval', '200'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout = (stdout + chunk).slice(-4096)));
  child.stderr.on('data', () => undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const statusField = async (field) => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  };
  await new Promise((resolve) => setTimeout(resolve, 300));
  const baselineRss = await statusField('VmRSS');
  return {
    baselineRss,
    peakRss: () => statusField('VmHWM'),
    async waitAcked(offset, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const acked = [...stdout.matchAll(/acked (-?\d+)/g)].pop();
        if (acked && Number(acked[1]) >= offset) return;
        if (child.exitCode !== null)
          throw new Error(`bench: run --direct exited (${child.exitCode}): ${stdout}`);
        if (Date.now() > deadline) throw new Error(`bench: run --direct did not reach offset ${offset}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
