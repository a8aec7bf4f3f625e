import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createCoordinator, type CoordinatorOptions } from './app.js';

export interface StartCoordinatorOptions extends CoordinatorOptions {
  /** TCP port; 0 picks a free one (read it back from `url`) */
  port: number;
  /** @defaultValue '127.0.0.1' (loopback: put a TLS-terminating proxy in front to expose it) */
  host?: string;
}

export interface RunningCoordinator {
  /** base URL, e.g. `http://127.0.0.1:8080` */
  url: string;
  /** stops accepting connections, ends open ones, then closes the queue connection */
  close(): Promise<void>;
}

export async function startCoordinator(options: StartCoordinatorOptions): Promise<RunningCoordinator> {
  const { port, host = '127.0.0.1', ...rest } = options;
  const coordinator = await createCoordinator(rest);
  const server = coordinator.app.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await coordinator.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
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
