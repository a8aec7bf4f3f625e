/**
 * Scenario 5 — memory with big keys: peak RSS (VmHWM) of a `shardbridge run --direct` process (what a worker
 * needs) while its full sync copies one big list and one big string (random bytes, so LZF cannot shrink them in
 * the RDB). Keys over the plan's bigKeyThreshold are written in parts into a scratch key and RENAMEd into place,
 * so the peak should not grow with the key size. Runs once per threshold (full run: default 64 MiB and 16 MiB,
 * --quick: default only), each into a fresh target; both keys are checked on the target (length) afterwards.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fmt, printHeading, round } from '../lib/report.mjs';
import { masterOffset, startServer } from '../lib/redis.mjs';
import { runDirect } from '../lib/run-direct.mjs';

const MiB = 1024 * 1024;
const ELEMENT_BYTES = 1024;

export async function scenarioMemory(report, options, root) {
  printHeading(
    `Scenario 5: worker peak RSS with a ${options.bigListMiB} MiB list and a ${options.bigStringMiB} MiB string`,
  );
  const source = await startServer();
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
  const listLength = await client.llen('bench:big:list');
  const runs = [];
  for (const threshold of options.bigKeyThresholds) {
    const target = await startServer();
    const started = performance.now();
    const run = await runDirect(root, source, {
      type: 'standalone',
      seeds: [`${target.host}:${target.port}`],
      bigKeyThreshold: threshold,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const baselineBytes = await run.rss();
    await run.waitAcked(await masterOffset(source), 60 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    const peakBytes = await run.peakRss();
    await run.stop();
    const targetClient = target.client();
    const keysMatch =
      (await targetClient.llen('bench:big:list')) === listLength &&
      (await targetClient.strlen('bench:big:string')) === options.bigStringMiB * MiB;
    await target.release();
    runs.push({
      bigKeyThreshold: threshold ?? 'default (64 MiB)',
      seconds: round(seconds),
      baselineRssBytes: baselineBytes,
      peakRssBytes: peakBytes,
      keysMatch,
    });
  }
  await source.release();
  const describe = (run) =>
    `${fmt.mb(run.peakRssBytes)} at ${typeof run.bigKeyThreshold === 'number' ? `${run.bigKeyThreshold / MiB} MiB` : '64 MiB'}` +
    (run.keysMatch ? '' : ' KEYS DIFFER');
  report.row(
    'memory',
    {
      scenario: `5. peak RSS, ${options.bigListMiB} MiB list + ${options.bigStringMiB} MiB string`,
      ours: runs.map(describe).join(', '),
      reference: `${fmt.mb((options.bigListMiB + options.bigStringMiB) * MiB)} of big keys`,
      ratio: '—',
      goal: '≤ 150 MB',
    },
    { listMiB: options.bigListMiB, stringMiB: options.bigStringMiB, runs },
  );
}
