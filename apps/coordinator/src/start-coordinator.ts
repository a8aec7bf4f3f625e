import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCoordinator, type CoordinatorOptions } from './app.js';

/** Serve the API over HTTPS, optionally requiring client certificates (mutual TLS). PEM contents, not paths. */
export interface CoordinatorTlsOptions {
  /** server certificate chain (PEM) */
  cert: string | Buffer;
  /** its private key (PEM) */
  key: string | Buffer;
  /**
   * CA bundle (PEM) that client certificates must chain to. When given, a client without a certificate signed by
   * it fails the TLS handshake: no request reaches the app. The bearer token, if set, is still required on top.
   * @defaultValue undefined (no client certificate asked for)
   */
  clientCa?: string | Buffer;
}

export interface StartCoordinatorOptions extends CoordinatorOptions {
  /** TCP port; 0 picks a free one (read it back from `url`) */
  port: number;
  /** @defaultValue '127.0.0.1' (loopback: serve TLS with `tls`, or put a TLS-terminating proxy in front to expose it) */
  host?: string;
  /**
   * HTTPS (and mutual TLS with `clientCa`) instead of plain HTTP.
   * @defaultValue undefined (plain HTTP)
   */
  tls?: CoordinatorTlsOptions;
}

export interface RunningCoordinator {
  /** base URL, e.g. `http://127.0.0.1:8080` (`https://` with `tls`) */
  url: string;
  /** stops accepting connections, ends open ones, then closes the queue connection */
  close(): Promise<void>;
}

export async function startCoordinator(options: StartCoordinatorOptions): Promise<RunningCoordinator> {
  const { port, host = '127.0.0.1', tls, ...rest } = options;
  const coordinator = await createCoordinator(rest);
  const server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          minVersion: 'TLSv1.2',
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        coordinator.app,
      ).listen(port, host)
    : coordinator.app.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await coordinator.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${shownHost}:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      await closed;
      await coordinator.close();
    },
  };
}
