/**
 * What the latency proxy itself can carry, so a WAN result can be told apart from a proxy limit:
 *   blast     one TCP connection writes `bytes` as fast as it can through a proxy into a sink (both ends in this
 *             process); rate = bytes / (first byte to last byte at the sink), so the link's one-way delay is not
 *             counted. The same blast without a proxy is the harness's own ceiling. On a shared machine the wall
 *             rate mostly measures the neighbours; the proxy's CPU seconds for the blast are the steadier number:
 *             bytes per CPU second is what the proxy (one process, so one core) can carry at most.
 *   ping RTT  median of sequential PINGs to a redis-server through a proxy: the round trip the link adds.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

/** A sink on loopback; `measure(port)` resolves with the seconds from its first byte to the sender's FIN. */
async function startSink() {
  let waiter;
  const server = net.createServer((socket) => {
    let first = 0;
    let bytes = 0;
    socket.on('data', (chunk) => {
      if (bytes === 0) first = performance.now();
      bytes += chunk.length;
    });
    socket.once('end', () => {
      waiter?.({ bytes, seconds: (performance.now() - first) / 1000 });
      socket.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: server.address().port,
    received: () => new Promise((resolve) => (waiter = resolve)),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Writes `bytes` to host:port as fast as the socket takes them, then ends. */
async function send(host, port, bytes) {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let sent = 0;
  while (sent < bytes) {
    const chunk = bytes - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, bytes - sent);
    sent += chunk.length;
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
}

/**
 * Blasts `bytes` into a fresh sink, through the proxy `startProxy(sink)` returns (or straight, when it is omitted).
 * @param {number} bytes
 * @param {(sink: { host: string, port: number }) => Promise<{ port: number, stats?(): Promise<object>, close(): Promise<void> }>} [startProxy]
 * @returns {Promise<{ bytes: number, seconds: number, MBps: number, proxyCpuSeconds: number | null, MBperProxyCpuSecond: number | null }>}
 */
export async function blast(bytes, startProxy) {
  const sink = await startSink();
  const proxy = startProxy ? await startProxy({ host: '127.0.0.1', port: sink.port }) : null;
  try {
    const cpuBefore = (await proxy?.stats?.())?.cpuSeconds;
    const received = sink.received();
    await send('127.0.0.1', proxy?.port ?? sink.port, bytes);
    const result = await received;
    if (result.bytes !== bytes) throw new Error(`bench: blast sent ${bytes} bytes, ${result.bytes} arrived`);
    const cpuAfter = (await proxy?.stats?.())?.cpuSeconds;
    const proxyCpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore;
    return {
      ...result,
      MBps: Math.round(result.bytes / 1e6 / result.seconds),
      proxyCpuSeconds,
      /** MB the proxy moves per second of its CPU: its ceiling on one core */
      MBperProxyCpuSecond: proxyCpuSeconds ? Math.round(bytes / 1e6 / proxyCpuSeconds) : null,
    };
  } finally {
    await proxy?.close();
    await sink.close();
  }
}

/** Median round trip (ms) of `count` sequential PINGs to a redis-server at host:port. */
export async function pingRttMs(host, port, count = 20) {
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    await client.ping();
    const times = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await client.ping();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    client.disconnect();
  }
}
