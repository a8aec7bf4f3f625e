import net from 'node:net';
import { FreePortError } from './errors.js';

/** Options for {@link freePort}. */
export interface FreePortOptions {
  /**
   * Interface to probe.
   * @defaultValue `'127.0.0.1'`
   */
  host?: string;
  /**
   * Also require `port + 10000` to be free, as Redis Cluster binds its bus there.
   * @defaultValue `false`
   */
  withBusPort?: boolean;
  /**
   * How many candidate ports to try before giving up.
   * @defaultValue `20`
   */
  attempts?: number;
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port that was free a moment ago. It is released before returning, so a race with another process is
 * possible; callers that spawn a server on it must retry on EADDRINUSE.
 */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const attempts = options.attempts ?? 20;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const port = await listenOnce(host, 0);
      if (!options.withBusPort) return port;
      // The bus port must exist (<= 65535) and be free as well.
      if (port + 10000 > 65535) continue;
      await listenOnce(host, port + 10000);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  throw new FreePortError(`no free port on ${host} after ${attempts} attempts`, { cause: lastError });
}
