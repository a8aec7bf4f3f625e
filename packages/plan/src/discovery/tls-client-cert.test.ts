import { startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../plan-schema.js';
import { parsePlan } from '../plan-validation.js';
import { preflightPlan } from '../preflight/preflight-plan.js';
import { discoverSourceShards } from './discover-source.js';
import { DiscoveryError } from './errors.js';

describe('discovery and preflight against TLS servers that require client certificates', () => {
  let source: TlsRedis;
  let target: TlsRedis;
  // Dialled at 127.0.0.1; the certificates name only these, so servername must be given.
  const sourceName = 'source.shardbridge.test';
  const targetName = 'target.shardbridge.test';

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startTlsRedis({ requireClientCert: true, certificateName: sourceName, password: 'src-pw' }),
      startTlsRedis({ requireClientCert: true, certificateName: targetName }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const tlsOf = (server: TlsRedis, servername: string, withCert: boolean) => ({
    ca: `file:${server.files.ca}`,
    servername,
    ...(withCert ? { cert: `file:${server.files.clientCert}`, key: `file:${server.files.clientKey}` } : {}),
  });
  const plan = (withCert: boolean) =>
    parsePlan({
      name: 'mtls',
      source: {
        type: 'standalone',
        seeds: [`127.0.0.1:${source.tlsPort}`],
        password: 'src-pw',
        tls: tlsOf(source, sourceName, withCert),
      },
      target: {
        type: 'standalone',
        seeds: [`127.0.0.1:${target.tlsPort}`],
        tls: tlsOf(target, targetName, withCert),
      },
    });

  it('discovers and preflights cleanly with CA, client certificate and key as file: references', async () => {
    const [shard] = await discoverSourceShards(plan(true).source as SourceSpec);
    expect(shard.reachable).toBe(`127.0.0.1:${source.tlsPort}`);
    const report = await preflightPlan(plan(true));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('without a client certificate: DISCOVERY_TLS naming the address and source.tls.cert/key', async () => {
    const error = await discoverSourceShards(plan(false).source as SourceSpec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toMatchObject({ code: 'DISCOVERY_TLS' });
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${source.tlsPort}`);
    expect(message).toMatch(/requires a client certificate: set source\.tls\.cert and source\.tls\.key/);
  });

  it('without a client certificate: preflight reports PREFLIGHT_TLS on both sides with the fix', async () => {
    const report = await preflightPlan(plan(false), { connectTimeoutMs: 3000 });
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(2);
    for (const [side, server] of [
      ['source', source],
      ['target', target],
    ] as const) {
      const problem = report.problems.find((entry) => entry.side === side);
      expect(problem).toMatchObject({ code: 'PREFLIGHT_TLS', address: `127.0.0.1:${server.tlsPort}` });
      expect(problem!.message).toMatch(/CERTIFICATE_REQUIRED/);
      expect(problem!.fix).toMatch(new RegExp(`set ${side}\\.tls\\.cert and ${side}\\.tls\\.key`));
    }
  });

  it('without the servername: DISCOVERY_TLS telling to set source.tls.servername', async () => {
    const spec = plan(true).source as SourceSpec & { tls: { servername?: string } };
    const { servername: _dropped, ...tls } = spec.tls;
    const error = await discoverSourceShards({ ...spec, tls }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DISCOVERY_TLS' });
    expect((error as Error).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID.*set source\.tls\.servername/);
  });
});
