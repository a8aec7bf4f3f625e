/**
 * Scenario 2 — full copy of the standalone source into a 3-master target cluster (testkit startCluster, no
 * replicas), ShardBridge vs `redis-cli --cluster import --cluster-copy --cluster-replace` (SCAN + one MIGRATE
 * per key), one after the other into the same cluster (FLUSHALL between).
 *   ShardBridge: `shardbridge run --direct` in its own process (plan target type cluster), from spawn until it
 *                printed an acknowledged offset >= the source's master_repl_offset;
 *   redis-cli:   from spawn until it exits.
 * Both are checked to leave the cluster with the source's db-0 key count. Ratio = redis-cli / ShardBridge
 * seconds (goal >= 3).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startCluster } from '@shardbridge/testkit';
import { fmt, printHeading, round } from '../lib/report.mjs';
import { own, releaseNow } from '../lib/resources.mjs';
import { masterOffset } from '../lib/redis.mjs';
import { runDirect } from '../lib/run-direct.mjs';

const TIMEOUT_MS = 60 * 60_000;

export async function scenarioClusterImport(report, { source }, root) {
  printHeading('Scenario 2: full copy into a 3-master cluster, ShardBridge vs redis-cli --cluster import');
  const cluster = await startCluster({ masters: 3, role: 'target' });
  const stopCluster = () => cluster.stop();
  own(cluster, stopCluster);
  try {
    const sourceKeys = await source.client().dbsize();
    const seeds = cluster.nodes.map((node) => `${node.host}:${node.port}`);

    let started = performance.now();
    const run = await runDirect(root, source, { type: 'cluster', seeds });
    await run.waitAcked(await masterOffset(source), TIMEOUT_MS);
    const oursSeconds = (performance.now() - started) / 1000;
    const oursPeakRss = await run.peakRss();
    await run.stop();
    const oursKeys = await clusterKeys(cluster);

    await Promise.all(cluster.nodes.map((node) => node.client().flushall()));
    started = performance.now();
    const cli = await redisCliImport(seeds[0], `${source.host}:${source.port}`);
    const cliSeconds = (performance.now() - started) / 1000;
    const cliKeys = await clusterKeys(cluster);

    const ratio = cliSeconds / oursSeconds;
    report.row(
      'clusterImport',
      {
        scenario: `2. copy ${fmt.count(sourceKeys)} keys into a 3-master cluster`,
        ours: `${fmt.seconds(oursSeconds)} (${fmt.rate(sourceKeys, oursSeconds, 'keys')})${
          oursKeys === sourceKeys ? '' : ` KEY COUNT ${oursKeys}`
        }`,
        reference: `redis-cli --cluster import ${fmt.seconds(cliSeconds)}${
          cliKeys === sourceKeys ? '' : ` KEY COUNT ${cliKeys}`
        }`,
        ratio: `faster ×${fmt.ratio(ratio)}`,
        goal: '≥ 3×',
      },
      {
        sourceKeys,
        shardBridge: { seconds: round(oursSeconds), targetKeys: oursKeys, peakRssBytes: oursPeakRss },
        redisCli: { seconds: round(cliSeconds), targetKeys: cliKeys, exitCode: cli.code },
        ratioCliOverOurs: round(ratio),
      },
    );
  } finally {
    await releaseNow(stopCluster);
  }
}

async function clusterKeys(cluster) {
  const sizes = await Promise.all(cluster.nodes.map((node) => node.client().dbsize()));
  return sizes.reduce((a, b) => a + b, 0);
}

async function redisCliImport(target, from) {
  const args = ['--cluster', 'import', target, '--cluster-from', from, '--cluster-copy', '--cluster-replace'];
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2048)));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  own(child, kill);
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal));
  });
  await releaseNow(kill);
  if (code !== 0) throw new Error(`bench: redis-cli --cluster import exited with ${code}: ${stderr.trim()}`);
  return { code };
}
