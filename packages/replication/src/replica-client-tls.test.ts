import { startTlsRedis, waitFor, type TlsRedis } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from './replica-client.js';
import type { ReplicaHandlers } from './types.js';

describe('ReplicaClient over TLS', () => {
  let tls: TlsRedis;
  beforeAll(async () => {
    tls = await startTlsRedis();
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('full-syncs and streams over TLS', async () => {
    let rdbHead: Buffer | null = null;
    let rdbDone = false;
    const commands: string[][] = [];
    const handlers: ReplicaHandlers = {
      onFullResync: () => {},
      onContinue: () => {},
      onRdbStart: () => {},
      onRdbData: (chunk) => (rdbHead ??= Buffer.from(chunk.subarray(0, 7))),
      onRdbEnd: () => (rdbDone = true),
      onCommand: (args) => commands.push(args.map((a) => a.toString())),
      onClose: () => {},
    };
    const client = new ReplicaClient({ host: '127.0.0.1', port: tls.tlsPort, tls: { ca: tls.ca } }, handlers);
    await client.start();
    await tls.server.client().set('over', 'tls');
    await waitFor('the SET in the stream', () => commands.some((c) => c[1] === 'over'));
    expect(rdbDone).toBe(true);
    expect(rdbHead!.toString()).toBe('REDIS00');
    expect(commands).toContainEqual(['set', 'over', 'tls']);
    await client.close();
  });

  it('REPL_TLS_HANDSHAKE naming TLS when the certificate is not trusted', async () => {
    const client = new ReplicaClient(
      { host: '127.0.0.1', port: tls.tlsPort, tls: {} },
      {} as ReplicaHandlers,
    );
    const err = await client.start().catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'REPL_TLS_HANDSHAKE', retryable: false });
    expect((err as Error).message).toContain('TLS');
  });
});

describe('ReplicaClient over TLS with client certificates (tls-auth-clients yes)', () => {
  let tls: TlsRedis;
  const servername = 'source.shardbridge.test';
  beforeAll(async () => {
    tls = await startTlsRedis({ requireClientCert: true, certificateName: servername });
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('syncs with the client certificate, verifying the server by servername while dialling 127.0.0.1', async () => {
    const commands: string[][] = [];
    const handlers = {
      onFullResync: () => {},
      onContinue: () => {},
      onRdbStart: () => {},
      onRdbData: () => {},
      onRdbEnd: () => {},
      onCommand: (args) => commands.push(args.map((a) => a.toString())),
      onClose: () => {},
    } satisfies ReplicaHandlers;
    const client = new ReplicaClient(
      {
        host: '127.0.0.1',
        port: tls.tlsPort,
        tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey, servername },
      },
      handlers,
    );
    await client.start();
    await tls.server.client().set('over', 'mtls');
    await waitFor('the SET in the stream', () => commands.some((c) => c[1] === 'over'));
    await client.close();
  });

  it('without the client certificate: REPL_TLS_HANDSHAKE (not retried) naming the address and tls.cert/key', async () => {
    const client = new ReplicaClient(
      { host: '127.0.0.1', port: tls.tlsPort, tls: { ca: tls.ca, servername } },
      {} as ReplicaHandlers,
    );
    const err = await client.start().catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'REPL_TLS_HANDSHAKE', retryable: false });
    expect((err as Error).message).toContain(`127.0.0.1:${tls.tlsPort}`);
    expect((err as Error).message).toMatch(
      /requires a client certificate: set source\.tls\.cert and source\.tls\.key/,
    );
  });
});
