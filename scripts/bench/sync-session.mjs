/**
 * The source/target pair the full-sync and stream measures share, and the ShardSync replicating between them.
 * The ShardSync runs in this process, so the RSS samples are the worker's footprint.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadEveryType } from '@shardbridge/testkit';
import { FileCheckpointStore, ShardSync } from '@shardbridge/worker';
import { own } from './resources.mjs';
import { startServer, waitFor } from './redis.mjs';

/** Other types next to the DEBUG POPULATE strings: loadEveryType writes ~7 keys per unit, so a few thousand. */
const KEYS_PER_TYPE = 500;

/** Source with `options.keys` small strings, every other type, and one big string; target empty. */
export async function startServers(options) {
  const source = await startServer();
  const target = await startServer();
  const client = source.client();
  await client.call('DEBUG', 'POPULATE', String(options.keys));
  await loadEveryType(client, { keysPerType: KEYS_PER_TYPE });
  await writeBigString(client, 'bench:big', options.bigStringBytes);
  return { source, target };
}

/** Random bytes, so LZF cannot shrink it in the RDB: all of it crosses the wire twice (RDB in, RESTORE out). */
async function writeBigString(client, key, bytes) {
  const CHUNK = 1 << 20;
  await client.del(key);
  for (let written = 0; written < bytes; written += CHUNK) {
    await client.append(key, randomBytes(Math.min(CHUNK, bytes - written)));
  }
}

/** Starts a ShardSync source -> target; stopped by releaseAll() unless `stop()` ran first. */
export async function startShardSync(source, target) {
  const checkpointDir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-bench-'));
  const sync = new ShardSync({
    shardId: 'bench',
    source: { host: source.host, port: source.port },
    target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
    checkpoints: new FileCheckpointStore(checkpointDir),
    logger: pino({ level: 'warn' }),
  });
  const running = sync.run();
  // A failure is surfaced by the next wait (it checks phase) and by stop(); never as an unhandled rejection.
  running.catch(() => undefined);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await sync.stop();
    await running;
    await rm(checkpointDir, { recursive: true, force: true });
  };
  own(sync, stop);
  return { sync, running, stop };
}

/**
 * Waits until the target confirmed every byte the source has produced so far: first the sync must reach the
 * command stream, then its acknowledged offset must reach master_repl_offset read at that moment.
 * Returns that offset.
 */
export async function waitCaughtUp(sync, source, timeoutMs) {
  await waitFor('phase incremental', () => phaseOrThrow(sync) === 'incremental', { timeoutMs });
  const target = Number((await source.info('replication')).master_repl_offset);
  await waitFor(
    `acknowledged offset ${target}`,
    () => phaseOrThrow(sync) && sync.progress.acknowledgedOffset >= target,
    { timeoutMs },
  );
  return target;
}

function phaseOrThrow(sync) {
  const { phase, lastError } = sync.progress;
  if (phase === 'failed' || phase === 'stopped') {
    throw new Error(
      `bench: ShardSync ${phase}${lastError ? `: ${lastError.code} ${lastError.message}` : ''}`,
    );
  }
  return phase;
}
