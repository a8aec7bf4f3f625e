import net from 'node:net';

/** Where the proxy forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * Random source in [0, 1) for {@link FaultProxy.setDropRate}; inject a seeded one for reproducible drops.
   * @defaultValue `Math.random`
   */
  random?: () => number;
}

/** Counters since the proxy started. */
export interface FaultProxyStats {
  /** Client connections accepted. */
  accepted: number;
  /** Connections closed by the drop rate. */
  dropped: number;
  /** Bytes forwarded client -> target. */
  bytesToTarget: number;
  /** Bytes forwarded target -> client. */
  bytesToClient: number;
}

/** A TCP proxy on loopback that can delay, drop, swallow and cut traffic to one target. */
export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** Live client connections. */
  readonly connections: number;
  readonly stats: Readonly<FaultProxyStats>;
  /** Delays every chunk, both directions, by `ms` from now on (order is kept when it changes). */
  setDelay(ms: number): void;
  /**
   * Caps each direction of each connection at `bytesPerSecond` from now on (0 = unlimited): a slow WAN link, so
   * that e.g. a full sync's RDB transfer lasts long enough to land a fault inside it. Reading from the sender
   * pauses while more than a megabyte waits, so the sender feels the link's pace.
   */
  setRateLimit(bytesPerSecond: number): void;
  /** Probability (0..1) that any chunk, instead of being forwarded, closes its connection pair. */
  setDropRate(rate: number): void;
  /**
   * While on, connections are accepted and everything they send is discarded, in both directions, on live
   * connections too: the peer sees an open socket that never answers. Bytes swallowed are gone, so a
   * connection that lived through a blackhole has a desynchronised protocol stream; cutAll() it afterwards.
   * Connections accepted while on never get an upstream.
   */
  blackhole(on: boolean): void;
  /** Destroys every live connection (both sides) now; new connections are still accepted. */
  cutAll(): void;
  /** Cuts everything and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Bytes a rate-limited direction holds before it stops reading from its sender. */
const RATE_QUEUE_BYTES = 1024 * 1024;

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
}

/**
 * Starts a fault-injecting TCP proxy to `target` on a free loopback port. It listens on port 0, so unlike
 * spawned servers there is no probe-then-bind race.
 */
export async function startFaultProxy(
  target: ProxyTarget,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const random = options.random ?? Math.random;
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = { accepted: 0, dropped: 0, bytesToTarget: 0, bytesToClient: 0 };
  let delayMs = 0;
  let rateLimit = 0;
  let dropRate = 0;
  let blackholed = false;

  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  /**
   * Forwards `from` to `to` through a release-time queue: a chunk leaves at max(arrival + delay, previous
   * release), so shortening the delay never reorders bytes. Reading pauses while `to` is backed up.
   */
  const forward = (
    pair: Pair,
    from: net.Socket,
    to: net.Socket,
    counter: 'bytesToTarget' | 'bytesToClient',
  ) => {
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let queuedBytes = 0;
    let pausedForRate = false;
    let lastRelease = 0;
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0].at <= now) {
        const { chunk } = queue.shift()!;
        queuedBytes -= chunk.length;
        if (to.destroyed) return;
        stats[counter] += chunk.length;
        if (!to.write(chunk) && !from.isPaused()) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      }
      if (pausedForRate && queuedBytes <= RATE_QUEUE_BYTES) {
        pausedForRate = false;
        from.resume();
      }
      if (queue.length > 0) timer = setTimeout(pump, queue[0].at - now);
    };
    from.on('data', (chunk: Buffer) => {
      if (blackholed) return;
      if (dropRate > 0 && random() < dropRate) {
        stats.dropped++;
        destroy(pair);
        return;
      }
      lastRelease = Math.max(Date.now() + delayMs, lastRelease);
      if (rateLimit > 0) lastRelease += (chunk.length * 1000) / rateLimit;
      queue.push({ at: lastRelease, chunk });
      queuedBytes += chunk.length;
      if (rateLimit > 0 && queuedBytes > RATE_QUEUE_BYTES && !from.isPaused()) {
        pausedForRate = true;
        from.pause();
      }
      if (delayMs === 0 && queue.length === 1) pump();
      else timer ??= setTimeout(pump, Math.max(0, queue[0].at - Date.now()));
    });
    // Either side closing tears the whole pair down (see destroy), queued bytes included.
    from.once('close', () => {
      if (timer) clearTimeout(timer);
    });
  };

  const server = net.createServer((client) => {
    stats.accepted++;
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => destroy(pair));
    client.once('close', () => destroy(pair));
    if (blackholed) {
      client.resume();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    pair.upstream = upstream;
    upstream.on('error', () => destroy(pair));
    upstream.once('close', () => destroy(pair));
    client.pause();
    upstream.once('connect', () => client.resume());
    forward(pair, client, upstream, 'bytesToTarget');
    forward(pair, upstream, client, 'bytesToClient');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;

  const cutAll = () => {
    for (const pair of [...pairs]) destroy(pair);
  };

  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return pairs.size;
    },
    stats,
    setDelay(ms: number) {
      if (!(ms >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
      delayMs = ms;
    },
    setRateLimit(bytesPerSecond: number) {
      if (!(bytesPerSecond >= 0)) throw new RangeError(`rate limit must be >= 0 B/s, got ${bytesPerSecond}`);
      rateLimit = bytesPerSecond;
    },
    setDropRate(rate: number) {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`drop rate must be within 0..1, got ${rate}`);
      dropRate = rate;
    },
    blackhole(on: boolean) {
      blackholed = on;
    },
    cutAll,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        cutAll();
      });
      return closing;
    },
  };
}
