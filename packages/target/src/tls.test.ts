import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetWriter } from './target-writer.js';

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=shardbridge-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe('TargetWriter over TLS', () => {
  let dir: string;
  let server: RedisServer;
  let tlsPort: number;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbridge-tls-'));
    const { cert, key } = selfSigned(dir);
    ca = readFileSync(cert);
    tlsPort = await freePort();
    server = await startRedis({
      password: 'tls-pw',
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
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates and writes over TLS', async () => {
    const writer = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tlsPort }],
      password: 'tls-pw',
      tls: { ca },
    });
    writer.applyCommand([Buffer.from('SET'), Buffer.from('over-tls'), Buffer.from('yes')], 42);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(42);
    await writer.close();
    expect(await server.client().get('over-tls')).toBe('yes');
  });

  it('reports an untrusted certificate as TARGET_CONNECT_FAILED', async () => {
    const error = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tlsPort }],
      password: 'tls-pw',
      tls: {},
      label: 'tls-target',
    }).catch((e) => e);
    expect(error.code).toBe('TARGET_CONNECT_FAILED');
    expect(error.message).toMatch(/cannot connect to target tls-target: .*TLS settings/);
  });
});
