/**
 * Scenario 1 — full sync, standalone -> standalone, ShardBridge vs native replication, from the same source.
 *   ShardBridge: from `ShardSync.run()` (in this process, so the RSS is the worker's) until the target
 *                acknowledged the source's master_repl_offset (PSYNC, RDB transfer, parse, RESTORE of every key,
 *                barrier).
 *   native:      a fresh redis-server told `REPLICAOF source` (clock starts at that command, after the server is
 *                up) until master_link_status:up, slave_repl_offset >= master_repl_offset and the same key count
 *                (../lib/native-sync.mjs).
 * Ratio = native seconds / ShardBridge seconds (1.0 = as fast as native; goal >= 0.5). Both targets are checked
 * to hold as many keys as the source.
 */
import { performance } from 'node:perf_hooks';
import { nativeFullSync } from '../lib/native-sync.mjs';
import { fmt, MB, printHeading, round } from '../lib/report.mjs';
import { RssSampler } from '../lib/rss-sampler.mjs';
import { totalKeys } from '../lib/redis.mjs';
import { startShardSync, waitCaughtUp } from '../lib/sync-session.mjs';

const SYNC_TIMEOUT_MS = 30 * 60_000;

/**
 * Runs both syncs and reports one row; returns the running ShardSync session (the incremental scenario
 * continues from it).
 */
export async function scenarioFullSync(report, servers, { measureNative = true } = {}) {
  printHeading('Scenario 1: full sync standalone -> standalone, ShardBridge vs native REPLICAOF');
  const { source, target } = servers;
  const sourceKeys = await totalKeys(source);
  const rss = new RssSampler();
  const started = performance.now();
  const session = await startShardSync(source, target);
  const offset = await waitCaughtUp(session.sync, source, SYNC_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  const { rdbBytesDone: rdbBytes, keysWritten } = session.sync.progress;
  const targetKeys = await totalKeys(target);
  const ours = {
    seconds: round(seconds),
    sourceKeys,
    keysWritten,
    targetKeys,
    keysMatch: targetKeys === sourceKeys,
    keysPerSecond: Math.round(keysWritten / seconds),
    rdbBytes,
    MBps: round(rdbBytes / MB / seconds),
    masterOffset: offset,
    rssBaselineBytes: memory.baselineBytes,
    rssPeakBytes: memory.peakBytes,
  };
  console.log(`bench: ShardBridge ${JSON.stringify(ours)}`);
  const native = measureNative ? await nativeFullSync(source) : null;
  const ratio = native ? native.seconds / seconds : null;
  report.row(
    'fullSync',
    {
      scenario: `1. full sync, ${fmt.count(sourceKeys)} keys, RDB ${fmt.mb(rdbBytes)}`,
      ours: `${fmt.seconds(seconds)} (${fmt.rate(keysWritten, seconds, 'keys')}, ${fmt.mbps(rdbBytes, seconds)})${
        ours.keysMatch ? '' : ' KEY COUNT DIFFERS'
      }`,
      reference: native ? `native REPLICAOF ${fmt.seconds(native.seconds)}` : 'not run',
      ratio: ratio === null ? '—' : `native/ours ${fmt.ratio(ratio)}`,
      goal: '≥ 0.5',
    },
    { shardBridge: ours, native, ratioNativeOverOurs: ratio === null ? null : round(ratio) },
  );
  return session;
}
