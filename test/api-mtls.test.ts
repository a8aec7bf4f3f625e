import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, startRedis, type RedisServer, type TestPki } from '@shardbridge/testkit';
import { runCli } from './support/cli-process.js';
import {
  API_TOKEN,
  ProcessGroup,
  startCoordinatorProcess,
  type CoordinatorProcess,
} from './control-plane/support/processes.js';

/** `shardbridge coordinator` with --tls-* flags and the API commands with --api-ca/--api-cert/--api-key. */

let queueRedis: RedisServer;
let source: RedisServer;
let pki: TestPki;
let dir: string;
let planPath: string;
const group = new ProcessGroup();
let coordinator: CoordinatorProcess;
let api: string;

beforeAll(async () => {
  [queueRedis, source, pki] = await Promise.all([startRedis(), startRedis(), createTestPki()]);
  dir = await mkdtemp(join(tmpdir(), 'sb-mtls-'));
  planPath = join(dir, 'plan.json');
  const seed = `${source.host}:${source.port}`;
  await writeFile(
    planPath,
    JSON.stringify({
      name: 'mtls',
      source: { type: 'standalone', seeds: [seed] },
      target: { type: 'standalone', seeds: [seed] },
      force: true,
    }),
  );
  coordinator = group.add(
    await startCoordinatorProcess(queueRedis, {
      args: [
        '--tls-cert',
        pki.files.serverCert,
        '--tls-key',
        pki.files.serverKey,
        '--tls-client-ca',
        pki.files.ca,
      ],
    }),
  );
  api = `https://127.0.0.1:${coordinator.port}`;
}, 120_000);

afterAll(async () => {
  await group.killAll();
  await Promise.all([queueRedis?.stop(), source?.stop(), pki?.remove()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = { SHARDBRIDGE_API_TOKEN: API_TOKEN };

describe('API over mutual TLS', () => {
  it('logs an https:// URL', () => {
    expect(coordinator.cli.stdout() + coordinator.cli.stderr()).toContain(`coordinator listening on ${api}`);
  });

  it('submit and status work with the CA and a client certificate', async () => {
    const tls = [
      '--api-ca',
      pki.files.ca,
      '--api-cert',
      pki.files.clientCert,
      '--api-key',
      pki.files.clientKey,
    ];
    const submitted = await runCli(['submit', planPath, '--api', api, '--json', ...tls], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };
    const status = await runCli(['status', id, '--api', api, '--json'], {
      ...env,
      SHARDBRIDGE_API_CA: pki.files.ca,
      SHARDBRIDGE_API_CERT: pki.files.clientCert,
      SHARDBRIDGE_API_KEY: pki.files.clientKey,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, name: 'mtls' });
  });

  it('a client without a certificate is refused with a hint at the flags', async () => {
    const refused = await runCli(['status', 'x', '--api', api, '--api-ca', pki.files.ca], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/cannot reach the coordinator/);
    expect(refused.stderr).toMatch(/--api-cert/);
    const untrusted = await runCli(['status', 'x', '--api', api], env);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/--api-ca/);
  });

  it('flags that do not go together are usage errors', async () => {
    const half = await runCli(['status', 'x', '--api', api, '--api-cert', pki.files.clientCert], env);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--api-cert and --api-key together/);
    const noCert = await runCli(
      ['coordinator', '--queue', queueRedis.url, '--port', '0', '--tls-client-ca', pki.files.ca],
      env,
    );
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/--tls-cert and --tls-key go together/);
  });
});
