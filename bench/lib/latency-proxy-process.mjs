/**
 * The latency proxy's own process (forked by ./latency-proxy.mjs, so its event loop competes with nothing of the
 * bench's). argv: <targetHost> <targetPort> <oneWayDelayMs> <maxQueuedBytes>. Listens on 127.0.0.1, port 0.
 * IPC contract:
 *   child -> parent  { listening: port }                 once, when it accepts connections
 *   parent -> child  { stats: id }  -> { stats: id, value } counters since start (see stats())
 *   parent -> child  { close: true } or a lost IPC channel -> closes every connection and exits 0
 */
import net from 'node:net';
import { DelayLine } from './delay-line.mjs';

const [targetHost, targetPortText, delayText, maxQueuedText] = process.argv.slice(2);
const targetPort = Number(targetPortText);
const delayMs = Number(delayText);
const maxQueuedBytes = Number(maxQueuedText);

const pairs = new Set();
const totals = { accepted: 0, bytesToTarget: 0, bytesToClient: 0, peakQueuedBytes: 0, fullPauses: 0 };

function retire(pair) {
  if (!pairs.delete(pair)) return;
  for (const [line, counter] of [
    [pair.up, 'bytesToTarget'],
    [pair.down, 'bytesToClient'],
  ]) {
    const { bytes, peakQueuedBytes, fullPauses } = line.stats();
    totals[counter] += bytes;
    totals.peakQueuedBytes = Math.max(totals.peakQueuedBytes, peakQueuedBytes);
    totals.fullPauses += fullPauses;
  }
  pair.up.discard();
  pair.down.discard();
  pair.client.destroy();
  pair.upstream.destroy();
}

// Half-open sockets: a FIN travels through the line like any byte (DelayLine ends the far side once its queue has
// left), so a sender that writes and closes at once still delivers everything.
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  totals.accepted += 1;
  client.pause();
  client.setNoDelay(true);
  const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
  upstream.setNoDelay(true);
  const pair = {
    client,
    upstream,
    up: new DelayLine(client, upstream, { delayMs, maxQueuedBytes }),
    down: new DelayLine(upstream, client, { delayMs, maxQueuedBytes }),
  };
  pairs.add(pair);
  upstream.once('connect', () => client.resume());
  // An error (a reset) on either side ends the pair at once, queued bytes dropped; a clean close waits for the other
  // side's close, which comes once its line has delivered what it holds.
  let closed = 0;
  for (const socket of [client, upstream]) {
    socket.on('error', () => retire(pair));
    socket.once('close', () => {
      closed += 1;
      if (closed === 2) retire(pair);
    });
  }
});

function stats() {
  const cpu = process.cpuUsage();
  const value = { ...totals, connections: pairs.size, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  for (const pair of pairs) {
    value.bytesToTarget += pair.up.bytes;
    value.bytesToClient += pair.down.bytes;
    value.peakQueuedBytes = Math.max(
      value.peakQueuedBytes,
      pair.up.peakQueuedBytes,
      pair.down.peakQueuedBytes,
    );
    value.fullPauses += pair.up.fullPauses + pair.down.fullPauses;
  }
  return value;
}

function shutdown() {
  for (const pair of [...pairs]) retire(pair);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on('message', (message) => {
  if (message?.stats !== undefined) process.send({ stats: message.stats, value: stats() });
  if (message?.close) shutdown();
});
process.once('disconnect', shutdown);

server.listen({ host: '127.0.0.1', port: 0 }, () => process.send({ listening: server.address().port }));
