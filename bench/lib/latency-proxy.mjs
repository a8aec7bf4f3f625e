/**
 * A simulated WAN link for the bench (this kernel has no netem): a TCP proxy on loopback, in a process of its own,
 * that holds every chunk RTT/2 in each direction (order kept; see ./delay-line.mjs for the buffer and
 * back-pressure). Put it between two parties and their round trip grows by `rttMs`. Stopped by releaseAll()
 * unless close() ran first.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_QUEUED_BYTES } from './delay-line.mjs';
import { own, releaseNow } from './resources.mjs';

const ENTRY = fileURLToPath(new URL('./latency-proxy-process.mjs', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/**
 * @param {{ host: string, port: number }} target where the link leads
 * @param {{ rttMs: number, maxQueuedBytes?: number }} options `rttMs` added round trip (0: a plain relay)
 * @returns {Promise<{ host: string, port: number, rttMs: number, stats(): Promise<object>, close(): Promise<void> }>}
 */
export async function startLatencyProxy(target, { rttMs, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES }) {
  const args = [target.host, String(target.port), String(rttMs / 2), String(maxQueuedBytes)];
  const child = fork(ENTRY, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ close: true });
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
  };
  own(child, stop);
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench: latency proxy did not start')), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`bench: latency proxy exited (${code}) before listening`)));
    child.on('message', (message) => {
      if (message?.listening === undefined) return;
      clearTimeout(timer);
      resolve(message.listening);
    });
  }).catch(async (error) => {
    await releaseNow(stop);
    throw error;
  });
  let nextId = 0;
  return {
    host: '127.0.0.1',
    port,
    rttMs,
    /**
     * Counters since start: accepted, connections, bytesToTarget, bytesToClient, peakQueuedBytes (the most one
     * direction of one connection held), fullPauses (reads paused because a line was full), cpuSeconds (the
     * proxy process's user + system CPU). Null once the proxy is gone.
     */
    stats() {
      if (!child.connected) return Promise.resolve(null);
      const id = nextId++;
      return new Promise((resolve) => {
        const onMessage = (message) => {
          if (message?.stats !== id) return;
          child.off('message', onMessage);
          resolve(message.value);
        };
        child.on('message', onMessage);
        child.send({ stats: id });
      });
    },
    close: () => releaseNow(stop),
  };
}
