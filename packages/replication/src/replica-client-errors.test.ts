import net from 'node:net';
import { freePort, startFaultProxy, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from './replica-client.js';
import type { ReplicaClientOptions, ReplicaHandlers } from './types.js';

function handlers(onClose: (error: Error | null) => void = () => {}): ReplicaHandlers {
  return {
    onFullResync: () => {},
    onContinue: () => {},
    onRdbStart: () => {},
    onRdbData: () => {},
    onRdbEnd: () => {},
    onCommand: () => {},
    onClose,
  };
}

/** start() must reject; returns the error, and checks the client ends cleanly afterwards. */
async function startError(
  options: ReplicaClientOptions,
): Promise<Error & { code?: string; retryable?: boolean }> {
  let closed = false;
  const client = new ReplicaClient(
    { connectTimeoutMs: 3000, readTimeoutMs: 5000, ...options },
    handlers(() => (closed = true)),
  );
  const error = await client.start().then(
    () => {
      throw new Error('start() resolved');
    },
    (err: Error) => err,
  );
  await client.close();
  expect(closed).toBe(false); // start() rejected: the error went there, not to onClose
  return error;
}

describe('ReplicaClient connection errors', () => {
  it('REPL_CONNECT_REFUSED when nothing listens', async () => {
    const port = await freePort();
    const err = await startError({ host: '127.0.0.1', port, label: 'shard 3' });
    expect(err).toMatchObject({ code: 'REPL_CONNECT_REFUSED', retryable: true });
    expect(err.message).toContain('shard 3');
  });

  it('REPL_CONNECT_TIMEOUT within the bound when the server accepts and never answers', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const began = Date.now();
      const err = await startError({ host: '127.0.0.1', port, connectTimeoutMs: 300 });
      expect(err).toMatchObject({ code: 'REPL_CONNECT_TIMEOUT' });
      expect(err.message).toContain(`127.0.0.1:${port}`);
      expect(err.message).toContain('PING');
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('close() during the handshake rejects start() with REPL_CONNECTION_CLOSED', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const client = new ReplicaClient({ host: '127.0.0.1', port }, handlers());
      const started = client.start().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      await client.close();
      expect(await started).toMatchObject({ code: 'REPL_CONNECTION_CLOSED' });
    } finally {
      silent.close();
    }
  });

  it('REPL_PROTOCOL when the peer is not a Redis server', async () => {
    const http = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as net.AddressInfo).port;
    try {
      const err = await startError({ host: '127.0.0.1', port });
      expect(err).toMatchObject({ code: 'REPL_PROTOCOL' });
    } finally {
      http.close();
    }
  });
});

describe('ReplicaClient and a peer that breaks the protocol mid-stream', () => {
  it('delivers the commands framed before the bad byte, then onClose(REPL_PROTOCOL) naming the offset', async () => {
    // A scripted peer, because no real master sends invalid RESP: it answers the four handshake commands,
    // then a full resync with an empty RDB, one PING, and a byte that is not RESP.
    const peer = net.createServer((socket) => {
      let replies = 0;
      socket.on('data', (data) => {
        for (const _ of data.toString().matchAll(/\*\d+\r\n/g)) {
          replies++;
          if (replies < 4) socket.write(replies === 1 ? '+PONG\r\n' : '+OK\r\n');
          if (replies === 4) socket.write(`+FULLRESYNC ${'f'.repeat(40)} 100\r\n$0\r\n*1\r\n$4\r\nPING\r\n?`);
        }
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    const port = (peer.address() as net.AddressInfo).port;
    try {
      const commands: Array<[string, number]> = [];
      let closed: Error | null | undefined;
      const client = new ReplicaClient(
        { host: '127.0.0.1', port },
        {
          ...handlers((e) => (closed = e)),
          onCommand: (args, offset) => commands.push([args[0].toString(), offset]),
        },
      );
      await client.start();
      await waitFor('onClose', () => closed !== undefined, 10_000);
      expect(commands).toEqual([['PING', 114]]);
      expect(closed).toMatchObject({ code: 'REPL_PROTOCOL' });
      expect(closed?.message).toContain('offset 114');
      expect(closed?.message).toContain(`127.0.0.1:${port}`);
    } finally {
      peer.close();
    }
  });
});

describe('ReplicaClient against a password-protected master', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: 's3cret', username: 'repl' });
    await server.client().acl('SETUSER', 'nopsync', 'on', '>pw', '~*', '+@all', '-psync');
  });
  afterAll(async () => server?.stop());

  it('REPL_AUTH_FAILED on a wrong password, without echoing it', async () => {
    const err = await startError({ host: server.host, port: server.port, password: 'wrong-pass' });
    expect(err).toMatchObject({ code: 'REPL_AUTH_FAILED', retryable: false });
    expect(err.message).toContain('wrong password or user for');
    expect(err.message).not.toContain('wrong-pass');
  });

  it('REPL_NOAUTH when no password is configured', async () => {
    const err = await startError({ host: server.host, port: server.port });
    expect(err).toMatchObject({ code: 'REPL_NOAUTH' });
    expect(err.message).toContain('requires a password');
  });

  it('REPL_PSYNC_REFUSED when the ACL user may not PSYNC', async () => {
    const err = await startError({
      host: server.host,
      port: server.port,
      username: 'nopsync',
      password: 'pw',
    });
    expect(err).toMatchObject({ code: 'REPL_PSYNC_REFUSED', retryable: false });
    expect(err.message).toContain('PSYNC');
  });

  it('syncs with AUTH <pass> and with AUTH <user> <pass>', async () => {
    for (const auth of [{ password: 's3cret' }, { username: 'repl', password: 's3cret' }]) {
      let rdbEnd = false;
      const client = new ReplicaClient(
        { host: server.host, port: server.port, ...auth },
        { ...handlers(), onRdbEnd: () => (rdbEnd = true) },
      );
      await client.start();
      await waitFor('the end of the RDB', () => rdbEnd, 10_000);
      expect(rdbEnd).toBe(true);
      await client.close();
    }
  });
});

describe('ReplicaClient silence', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => server?.stop());

  it('REPL_READ_TIMEOUT when the master goes silent after the handshake', async () => {
    let closedWith: Error | null | undefined;
    const client = new ReplicaClient(
      { host: server.host, port: server.port, readTimeoutMs: 600, ackIntervalMs: 100 },
      handlers((e) => (closedWith = e)),
    );
    await client.start();
    await server.pause();
    try {
      await waitFor('onClose', () => closedWith !== undefined, 10_000);
    } finally {
      await server.resume();
    }
    expect(closedWith).toMatchObject({ code: 'REPL_READ_TIMEOUT' });
  });

  it('REPL_CONNECT_TIMEOUT through a blackholing proxy', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port });
    proxy.blackhole(true);
    try {
      const err = await startError({
        host: proxy.host,
        port: proxy.port,
        connectTimeoutMs: 300,
        label: 'shard 0',
      });
      expect(err).toMatchObject({ code: 'REPL_CONNECT_TIMEOUT' });
      expect(err.message).toContain('shard 0');
    } finally {
      await proxy.close();
    }
  });
});
