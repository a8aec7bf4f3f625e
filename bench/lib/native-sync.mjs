/**
 * Native replication as the reference for a full sync: a fresh redis-server told `REPLICAOF` (the clock starts at
 * that command, after the server is up) until master_link_status:up, slave_repl_offset >= the source's
 * master_repl_offset read just after the command, and the same key count as the source. The replica is stopped
 * afterwards.
 */
import { performance } from 'node:perf_hooks';
import { round } from './report.mjs';
import { startServer, totalKeys, waitFor } from './redis.mjs';

const SYNC_TIMEOUT_MS = 30 * 60_000;

/**
 * @param {object} source the testkit server to replicate (asked for offsets and keys directly)
 * @param {{ via?: { host: string, port: number } }} [link] the address the replica dials (a latency proxy in front of
 *   the source); the source itself when omitted
 */
export async function nativeFullSync(source, { via = source } = {}) {
  const sourceKeys = await totalKeys(source);
  const replica = await startServer();
  try {
    const client = replica.client();
    const started = performance.now();
    await client.call('REPLICAOF', via.host, String(via.port));
    const masterOffset = Number((await source.info('replication')).master_repl_offset);
    await waitFor('native replica in sync', () => replicaCaughtUp(replica, masterOffset, sourceKeys), {
      timeoutMs: SYNC_TIMEOUT_MS,
      intervalMs: 20,
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      seconds: round(seconds),
      sourceKeys,
      keysPerSecond: Math.round(sourceKeys / seconds),
      masterOffset,
    };
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
