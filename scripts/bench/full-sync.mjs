/**
 * Measure 2 — full-sync time, ShardSync vs native replication, from the same source.
 *   shardSync: from `ShardSync.run()` until the target acknowledged the source's master_repl_offset (PSYNC,
 *              RDB transfer, parse, RESTORE of every key, barrier). keys/s counts restored keys; MB/s is RDB bytes
 *              received per second of the whole sync; peak RSS is this Node process while it ran.
 *   native:    a fresh redis-server told `REPLICAOF source` (clock starts at that command, after the server is up)
 *              until master_link_status:up, slave_repl_offset >= master_repl_offset and the same key count.
 * Both targets are checked to hold as many keys (all dbs) as the source.
 */
import { performance } from 'node:perf_hooks';
import { fmt, MB, printHeading, round } from './report.mjs';
import { RssSampler } from './rss-sampler.mjs';
import { startServer, totalKeys, waitFor } from './redis.mjs';
import { startShardSync, waitCaughtUp } from './sync-session.mjs';

const SYNC_TIMEOUT_MS = 30 * 60_000;

/** Runs the ShardSync full sync; returns the running session for the stream measure. */
export async function measureShardSyncFullSync(report, { source, target }) {
  printHeading('Full sync: ShardSync (RDB -> RESTORE) vs native replica');
  const sourceKeys = await totalKeys(source);
  const rss = new RssSampler();
  const started = performance.now();
  const session = await startShardSync(source, target);
  const offset = await waitCaughtUp(session.sync, source, SYNC_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  const { rdbBytesDone: rdbBytes, keysWritten } = session.sync.progress;
  const targetKeys = await totalKeys(target);
  report.add(
    'fullSync.shardSync',
    {
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
    },
    [
      fmt.seconds(seconds),
      `${fmt.count(keysWritten)} keys`,
      fmt.rate(keysWritten, seconds, 'keys'),
      `RDB ${fmt.mb(rdbBytes)}`,
      fmt.mbps(rdbBytes, seconds),
      `peak RSS ${fmt.mb(memory.peakBytes)} (base ${fmt.mb(memory.baselineBytes)})`,
      targetKeys === sourceKeys ? 'keys match' : `KEY COUNT DIFFERS: target ${targetKeys} vs ${sourceKeys}`,
    ],
  );
  return session;
}

/** Native replication of the same source into a fresh server, which is stopped afterwards. */
export async function measureNativeFullSync(report, { source }) {
  const sourceKeys = await totalKeys(source);
  const replica = await startServer();
  try {
    const client = replica.client();
    const started = performance.now();
    await client.call('REPLICAOF', source.host, String(source.port));
    const masterOffset = Number((await source.info('replication')).master_repl_offset);
    await waitFor('native replica in sync', () => replicaCaughtUp(replica, masterOffset, sourceKeys), {
      timeoutMs: SYNC_TIMEOUT_MS,
      intervalMs: 20,
    });
    const seconds = (performance.now() - started) / 1000;
    report.add(
      'fullSync.native',
      { seconds: round(seconds), sourceKeys, keysPerSecond: Math.round(sourceKeys / seconds), masterOffset },
      [fmt.seconds(seconds), `${fmt.count(sourceKeys)} keys`, fmt.rate(sourceKeys, seconds, 'keys')],
    );
  } finally {
    await replica.release();
  }
}

async function replicaCaughtUp(replica, masterOffset, sourceKeys) {
  const replication = await replica.info('replication');
  if (replication.master_link_status !== 'up') return false;
  if (Number(replication.slave_repl_offset) < masterOffset) return false;
  return (await totalKeys(replica)) === sourceKeys;
}
