import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, loadEveryType, startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { scratchDir, waitUntilCaughtUp } from './support/sync-harness.js';
import { writeTlsPlan, type TlsSideSpec } from './support/tls-plan.js';

const SOURCE_NAME = 'source.shardbridge.test';
const TARGET_NAME = 'target.shardbridge.test';

const runArgs = (plan: string, checkpoints: string) => [
  'run',
  '--direct',
  plan,
  '--checkpoint-dir',
  checkpoints,
  '--progress-interval',
  '200',
];

/**
 * Source and target both require a client certificate (`tls-auth-clients yes`) and present certificates issued
 * only for a DNS name, while the plan dials 127.0.0.1: the sync works only with `cert`, `key` and `servername`.
 */
describe('shardbridge run --direct: TLS source and target requiring client certificates', () => {
  let source: TlsRedis;
  let target: TlsRedis;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const sourceSpec = (withCert: boolean): TlsSideSpec => ({
    server: source,
    servername: SOURCE_NAME,
    ...(withCert ? { key: `file:${source.files.clientKey}` } : {}),
  });
  const targetSpec = (withCert: boolean): TlsSideSpec => ({
    server: target,
    servername: TARGET_NAME,
    ...(withCert ? { key: `file:${target.files.clientKey}` } : {}),
  });

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startTlsRedis({ requireClientCert: true, certificateName: SOURCE_NAME }),
      startTlsRedis({ requireClientCert: true, certificateName: TARGET_NAME }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('syncs with CA, client certificate, key as a file: reference and servername on both sides', async () => {
    // Data is loaded and compared through the plain admin ports; the sync itself only has the TLS ports.
    await loadEveryType(source.server.client(), { keysPerType: 50 });
    const plan = await writeTlsPlan(scratch.path, 'mtls-ok', sourceSpec(true), targetSpec(true));
    const cli = startCli(runArgs(plan, join(scratch.path, 'checkpoints-ok')));
    try {
      await cli.waitFor(/incremental/, 120_000);
      await source.server.client().set('mtls:during', 'yes');
      await waitUntilCaughtUp(cli, source.server);
      expect(await target.server.client().get('mtls:during')).toBe('yes');
      await assertSameContents(source.server.client(), target.server.client(), {
        streamEntriesRead: 'ignore',
      });
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 180_000);

  it('shardbridge discover: passes with the client certificates, and without them reports PREFLIGHT_TLS with the fix', async () => {
    const good = await writeTlsPlan(scratch.path, 'mtls-discover-ok', sourceSpec(true), targetSpec(true));
    const ok = startCli(['discover', good]);
    expect(await ok.exited, `${ok.stdout()}\n${ok.stderr()}`).toBe(0);
    const bad = await writeTlsPlan(scratch.path, 'mtls-discover-bad', sourceSpec(false), targetSpec(false));
    const cli = startCli(['discover', bad]);
    const code = await cli.exited;
    const output = `${cli.stdout()}\n${cli.stderr()}`;
    expect(code, output).toBe(1);
    expect(output).toMatch(/PREFLIGHT_TLS/);
    expect(output).toContain('set source.tls.cert and source.tls.key');
    expect(output).toContain('set target.tls.cert and target.tls.key');
    expect(output).not.toMatch(/^\s+at /m);
  }, 90_000);

  for (const missing of ['source', 'target'] as const) {
    it(`without the ${missing} client certificate: exit 1, one error line naming the address and ${missing}.tls.cert`, async () => {
      const plan = await writeTlsPlan(
        scratch.path,
        `mtls-no-${missing}-cert`,
        sourceSpec(missing !== 'source'),
        targetSpec(missing !== 'target'),
      );
      const cli = startCli(runArgs(plan, join(scratch.path, `checkpoints-no-${missing}`)));
      // A hang would be a bug: the CLI must give up by itself, long before this.
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 60_000);
      const code = await cli.exited;
      clearTimeout(timer);
      const output = `${cli.stdout()}\n${cli.stderr()}`;
      expect(code, output).toBe(1);
      const errors = cli
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('error:'));
      expect(errors, output).toHaveLength(1);
      const server = missing === 'source' ? source : target;
      expect(errors[0]).toContain(`127.0.0.1:${server.tlsPort}`);
      expect(errors[0]).toMatch(/CERTIFICATE_REQUIRED/);
      expect(errors[0]).toMatch(/requires a client certificate/);
      expect(errors[0]).toContain(`set ${missing}.tls.cert and ${missing}.tls.key`);
      expect(output).not.toMatch(/^\s+at /m);
    }, 90_000);
  }
});
