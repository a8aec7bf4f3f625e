/** Redis fixtures and probes for the bench: servers via testkit, keyspace counts, offset waits. */
import { startRedis } from '@shardbridge/testkit';
import { own, releaseNow } from './resources.mjs';

// No container runtime on bench machines; spawning directly also skips the runtime probe.
process.env.SHARDBRIDGE_TESTKIT ??= 'spawn';

/**
 * A redis-server stopped by releaseAll(); `release()` stops it early.
 * DEBUG is enabled so DEBUG POPULATE can fill it (loopback only, throwaway data).
 * @param {Record<string, string | string[]>} [config] more redis.conf directives (testkit's RedisConfig)
 */
export async function startServer(config = {}) {
  const server = await startRedis({ config: { 'enable-debug-command': 'yes', ...config } });
  const stop = () => server.stop();
  own(server, stop);
  server.release = () => releaseNow(stop);
  return server;
}

/** Sum of `keys=` over every db in INFO keyspace. */
export async function totalKeys(server) {
  const keyspace = await server.info('keyspace');
  let total = 0;
  for (const [field, value] of Object.entries(keyspace)) {
    if (!/^db\d+$/.test(field)) continue;
    total += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return total;
}

export async function masterOffset(server) {
  return Number((await server.info('replication')).master_repl_offset);
}

/** Polls `probe` (sync or async) every `intervalMs` until it returns truthy; throws after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs, intervalMs = 10 }) {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
