import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { waitFor } from './wait-for.js';

describe('startFaultProxy', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  const clients: Redis[] = [];
  const connect = (options: ConstructorParameters<typeof Redis>[0] = {}) => {
    const client = new Redis({
      host: proxy.host,
      port: proxy.port,
      maxRetriesPerRequest: 0,
      ...(options as object),
    });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await proxy?.close();
  });

  it('forwards both ways and counts', async () => {
    proxy = await startFaultProxy(server);
    const client = connect();
    await client.set('through', 'proxy');
    expect(await server.client().get('through')).toBe('proxy');
    expect(await client.get('through')).toBe('proxy');
    expect(proxy.connections).toBe(1);
    expect(proxy.stats.accepted).toBe(1);
    expect(proxy.stats.bytesToTarget).toBeGreaterThan(0);
    expect(proxy.stats.bytesToClient).toBeGreaterThan(0);
  });

  it('delays every chunk without reordering', async () => {
    proxy = await startFaultProxy(server);
    const client = connect();
    await client.ping();
    proxy.setDelay(150);
    const started = Date.now();
    await client.ping();
    // A round trip crosses the proxy twice.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const pending = Array.from({ length: 20 }, (_, i) => client.incr('counter').then(() => i));
    proxy.setDelay(0);
    const replies = await Promise.all(Array.from({ length: 20 }, () => client.incr('counter')));
    await Promise.all(pending);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => i + 21));
  });

  it('rate-limits: a 400 kB reply at 1 MB/s takes at least ~0.3 s, and arrives whole', async () => {
    proxy = await startFaultProxy(server);
    await server.client().set('big', 'x'.repeat(400_000));
    const client = connect();
    await client.ping();
    proxy.setRateLimit(1_000_000);
    const started = Date.now();
    expect((await client.get('big'))!.length).toBe(400_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    proxy.setRateLimit(0);
    expect(() => proxy.setRateLimit(-1)).toThrow(RangeError);
  });

  it('blackholes: accepts, never answers, so the client times out', async () => {
    proxy = await startFaultProxy(server);
    proxy.blackhole(true);
    const client = connect({ enableReadyCheck: false, commandTimeout: 300, retryStrategy: () => null });
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    expect(proxy.connections).toBe(1);
    expect(proxy.stats.bytesToTarget).toBe(0);
    proxy.blackhole(false);
    expect(await connect().ping()).toBe('PONG');
  });

  it('cutAll destroys every live connection', async () => {
    proxy = await startFaultProxy(server);
    const a = connect({ retryStrategy: () => null });
    const b = connect({ retryStrategy: () => null });
    await Promise.all([a.ping(), b.ping()]);
    expect(proxy.connections).toBe(2);
    const closed = Promise.all([a, b].map((client) => new Promise((resolve) => client.once('end', resolve))));
    proxy.cutAll();
    await closed;
    await waitFor('the proxy to drop every connection', () => proxy.connections === 0, 10_000);
    expect(await connect().ping()).toBe('PONG');
  });

  it('drops connections at the configured rate', async () => {
    proxy = await startFaultProxy(server);
    proxy.setDropRate(1);
    const client = connect({ retryStrategy: () => null, enableReadyCheck: false });
    await expect(client.ping()).rejects.toThrow();
    expect(proxy.stats.dropped).toBeGreaterThanOrEqual(1);
    proxy.setDropRate(0);
    expect(await connect().ping()).toBe('PONG');
    expect(() => proxy.setDropRate(2)).toThrow(RangeError);
  });
});
