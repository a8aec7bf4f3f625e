import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverSourceShards } from './discovery/discover-source.js';
import { parsePlan } from './plan-validation.js';
import { preflightPlan } from './preflight/preflight-plan.js';
import { SecretReferenceError } from './secret-reference.js';
import { resolveTls } from './tls-settings.js';

describe('resolveTls', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'plan-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads file: references, keeps PEM literals, resolves the key as a secret', () => {
    writeFileSync(path.join(dir, 'ca.pem'), 'CA-PEM');
    process.env.PLAN_TLS_TEST_KEY = 'KEY-PEM';
    expect(
      resolveTls(
        {
          ca: `file:${dir}/ca.pem`,
          cert: 'CERT-PEM',
          key: 'env:PLAN_TLS_TEST_KEY',
          servername: 'n',
          rejectUnauthorized: false,
        },
        'source.tls',
      ),
    ).toEqual({
      enabled: true,
      options: { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', servername: 'n', rejectUnauthorized: false },
    });
    expect(resolveTls(true, 'x')).toEqual({ enabled: true, options: {} });
    expect(resolveTls(false, 'x')).toEqual({ enabled: false, options: {} });
  });

  it('names the field of an unreadable file', () => {
    expect(() => resolveTls({ ca: `file:${dir}/missing.pem` }, 'target.tls')).toThrow(SecretReferenceError);
    expect(() => resolveTls({ ca: `file:${dir}/missing.pem` }, 'target.tls')).toThrow(/target\.tls\.ca/);
  });
});

describe('TLS object form against a real TLS server', () => {
  let server: TlsRedis;
  let dir: string;
  beforeAll(async () => {
    server = await startTlsRedis({ password: 'pw' });
    dir = mkdtempSync(path.join(tmpdir(), 'plan-tls-'));
    writeFileSync(path.join(dir, 'ca.pem'), server.ca);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (tls: unknown) =>
    parsePlan({
      name: 'tls',
      source: { type: 'standalone', seeds: [`127.0.0.1:${server.tlsPort}`], password: 'pw', tls },
      target: { type: 'standalone', seeds: [`127.0.0.1:${server.tlsPort}`], password: 'pw', tls },
    });

  it('discovers and preflights with a CA file and a servername', async () => {
    const good = plan({ ca: `file:${dir}/ca.pem`, servername: 'localhost' });
    const [shard] = await discoverSourceShards(good.source);
    expect(shard.reachable).toBe(`127.0.0.1:${server.tlsPort}`);
    const report = await preflightPlan(good);
    expect(report.problems).toEqual([]);
    expect(report.target.nodes[0].writable).toBe(true);
  });

  it('refuses an untrusted certificate unless rejectUnauthorized is false', async () => {
    const report = await preflightPlan(plan({ servername: 'localhost' }), { connectTimeoutMs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.source.shards[0].error).toMatch(/self[- ]signed|certificate/i);
    const lax = await preflightPlan(plan({ rejectUnauthorized: false }));
    expect(lax.problems).toEqual([]);
  });
});
