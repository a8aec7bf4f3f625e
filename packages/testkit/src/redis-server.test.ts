import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStartError } from './errors.js';
import { startRedis, type RedisServer } from './redis-server.js';

describe('startRedis (spawned)', () => {
  const servers: RedisServer[] = [];
  const start = async (...args: Parameters<typeof startRedis>) => {
    const server = await startRedis(...args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('starts on a free loopback port, answers commands, and stop() removes the dir', async () => {
    const server = await start();
    expect(server.kind).toBe('spawn');
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.pid).toBeGreaterThan(0);
    const client = server.client();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    const info = await server.info('server');
    expect(info.tcp_port).toBe(String(server.port));
    expect(info.redis_version).toMatch(/^\d+\.\d+/);
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    expect(() => process.kill(server.pid, 0)).toThrow();
    await server.stop(); // idempotent
  });

  it('passes config and applies password and ACL user', async () => {
    const server = await start({
      password: 's3cr3t',
      username: 'alice',
      config: { 'maxmemory-policy': 'allkeys-lru' },
    });
    expect(server.url).toBe(`redis://alice:s3cr3t@127.0.0.1:${server.port}`);
    const client = server.client();
    expect(await client.acl('WHOAMI')).toBe('alice');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    const asDefault = server.client({ username: undefined });
    expect(await asDefault.acl('WHOAMI')).toBe('default');
    const anonymous = server.client({ username: undefined, password: undefined, maxRetriesPerRequest: 0 });
    anonymous.on('error', () => undefined);
    await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
  });

  it('kill() keeps the dir and restart() comes back on the same port with persisted data', async () => {
    const server = await start();
    const client = server.client();
    await client.set('persisted', '1');
    await client.save();
    const { port, dir, pid } = server;
    await server.kill();
    expect(existsSync(dir)).toBe(true);
    await expect(server.info()).rejects.toThrow();
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    // The first client reconnects by itself.
    expect(await client.get('persisted')).toBe('1');
  });

  it('pause() freezes the server and resume() thaws it', async () => {
    const server = await start();
    const client = server.client({ commandTimeout: 300, maxRetriesPerRequest: 0 });
    await client.ping();
    await server.pause();
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    await server.resume();
    const fresh = server.client();
    expect(await fresh.ping()).toBe('PONG');
  });

  it('reports startup failures with the server output', async () => {
    const error = await startRedis({ config: { 'no-such-directive': 'x' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisStartError);
    expect((error as RedisStartError).code).toBe('TESTKIT_REDIS_START');
    expect((error as Error).message).toMatch(/no-such-directive/);
  });

  it('uses opts.bin and fails fast when the binary does not exist', async () => {
    const server = await start({ bin: '/usr/bin/redis-server' });
    expect(await server.client().ping()).toBe('PONG');
    const error = await startRedis({ bin: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisStartError);
    expect((error as Error).message).toMatch(/ENOENT/);
  });

  it('starts several servers in parallel on distinct ports', async () => {
    const many = await Promise.all([start(), start(), start(), start()]);
    expect(new Set(many.map((s) => s.port)).size).toBe(4);
  });
});
