import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from './replica-client.js';
import type { ReplicaHandlers } from './types.js';

describe('ReplicaClient over TLS', () => {
  let server: RedisServer;
  let tlsPort: number;
  let certDir: string;
  let ca: Buffer;
  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'sb-repl-tls-'));
    const key = join(certDir, 'key.pem');
    const cert = join(certDir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' }); // prettier-ignore
    ca = readFileSync(cert);
    tlsPort = await freePort();
    server = await startRedis({
      config: {
        'tls-port': String(tlsPort),
        'tls-cert-file': cert,
        'tls-key-file': key,
        'tls-ca-cert-file': cert,
        'tls-auth-clients': 'no',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
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
    const client = new ReplicaClient({ host: '127.0.0.1', port: tlsPort, tls: { ca } }, handlers);
    await client.start();
    await server.client().set('over', 'tls');
    const deadline = Date.now() + 15_000;
    while (!commands.some((c) => c[1] === 'over') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(rdbDone).toBe(true);
    expect(rdbHead!.toString()).toBe('REDIS00');
    expect(commands).toContainEqual(['set', 'over', 'tls']);
    await client.close();
  });

  it('REPL_CONNECT_REFUSED naming TLS when the certificate is not trusted', async () => {
    const client = new ReplicaClient({ host: '127.0.0.1', port: tlsPort, tls: {} }, {} as ReplicaHandlers);
    const err = await client.start().catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'REPL_CONNECT_REFUSED' });
    expect((err as Error).message).toContain('TLS');
  });
});
