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
    expect(error.message).toMatch(/cannot connect to target tls-target: .*TLS settings/);
  });
});
