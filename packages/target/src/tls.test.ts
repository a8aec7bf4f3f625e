import { startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetWriter } from './target-writer.js';

describe('TargetWriter over TLS', () => {
  let tls: TlsRedis;

  beforeAll(async () => {
    tls = await startTlsRedis({ password: 'tls-pw' });
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('authenticates and writes over TLS', async () => {
    const writer = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tls.tlsPort }],
      password: 'tls-pw',
      tls: { ca: tls.ca },
    });
    writer.applyCommand([Buffer.from('SET'), Buffer.from('over-tls'), Buffer.from('yes')], 42);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(42);
    await writer.close();
    expect(await tls.server.client().get('over-tls')).toBe('yes');
  });

  it('reports an untrusted certificate as TARGET_CONNECT_FAILED', async () => {
    const error = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tls.tlsPort }],
      password: 'tls-pw',
      tls: {},
      label: 'tls-target',
    }).catch((e) => e);
    expect(error.code).toBe('TARGET_CONNECT_FAILED');
    expect(error.message).toMatch(/TLS handshake with target tls-target failed .*set target\.tls\.ca/);
  });
});

describe('TargetWriter over TLS with client certificates (tls-auth-clients yes)', () => {
  let tls: TlsRedis;
  const servername = 'target.shardbridge.test';

  beforeAll(async () => {
    tls = await startTlsRedis({ requireClientCert: true, certificateName: servername });
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('writes with the client certificate, verifying the server by servername while dialling 127.0.0.1', async () => {
    const writer = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tls.tlsPort }],
      tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey, servername },
    });
    writer.applyCommand([Buffer.from('SET'), Buffer.from('mtls'), Buffer.from('yes')], 7);
    await writer.flush();
    await writer.close();
    expect(await tls.server.client().get('mtls')).toBe('yes');
  });

  it('without the client certificate: TARGET_CONNECT_FAILED naming the target and tls.cert/tls.key', async () => {
    const error = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tls.tlsPort }],
      tls: { ca: tls.ca, servername },
      label: `127.0.0.1:${tls.tlsPort}`,
    }).catch((e) => e);
    expect(error.code).toBe('TARGET_CONNECT_FAILED');
    expect(error.message).toContain(`target 127.0.0.1:${tls.tlsPort}`);
    expect(error.message).toMatch(/requires a client certificate .*target\.tls\.cert and target\.tls\.key/);
  });

  it('without the servername: TARGET_CONNECT_FAILED telling to set target.tls.servername', async () => {
    const error = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: tls.tlsPort }],
      tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey },
      label: 'mtls-target',
    }).catch((e) => e);
    expect(error.code).toBe('TARGET_CONNECT_FAILED');
    expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID.*set target\.tls\.servername/);
  });
});
