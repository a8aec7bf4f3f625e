import { Redis, type RedisOptions } from 'ioredis';

/** The ioredis clients a server handed out, so stop() can disconnect every one still open. */
export class ClientSet {
  readonly #clients = new Set<Redis>();

  /** A new connected client; see `RedisServer.client` for the contract. */
  open(connection: RedisOptions, overrides: RedisOptions): Redis {
    const client = new Redis({ ...connection, lazyConnect: false, ...overrides });
    // Tests kill and pause servers on purpose; failures reach callers as rejected commands, so the
    // reconnect chatter ioredis would print for an unhandled 'error' event is only noise.
    client.on('error', () => undefined);
    this.#clients.add(client);
    client.once('end', () => this.#clients.delete(client));
    return client;
  }

  disconnectAll(): void {
    for (const client of this.#clients) client.disconnect();
    this.#clients.clear();
  }
}
