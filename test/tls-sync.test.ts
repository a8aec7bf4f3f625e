import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  loadEveryType,
  startRedis,
  startTlsRedis,
  type RedisServer,
  type TlsRedis,
} from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { scratchDir, startIdempotentWrites, waitUntilCaughtUp } from './support/sync-harness.js';

const runArgs = (plan: string, checkpoints: string) => [
  'run',
  '--direct',
  plan,
  '--checkpoint-dir',
  checkpoints,
  '--progress-interval',
  '200',
  '--log-level',
  'info',
];

/** A plan whose source is reached only through the TLS port; writePlan has no TLS field, so it is written here. */
async function writeTlsPlan(
  dir: string,
  name: string,
  tlsPort: number,
  tls: unknown,
  target: RedisServer,
): Promise<string> {
  const plan = {
    name,
    source: { type: 'standalone', seeds: [`127.0.0.1:${tlsPort}`], tls },
    target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
  };
  const file = join(dir, `${name}.plan.json`);
  await writeFile(file, JSON.stringify(plan, null, 2));
  return file;
}

describe('shardbridge run --direct: a TLS-only source', () => {
  let source: TlsRedis;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let caFile: string;
  const clients: Redis[] = [];

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([startTlsRedis(), startRedis(), scratchDir()]);
    caFile = join(scratch.path, 'ca.pem');
    await writeFile(caFile, source.ca);
  });
  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('syncs through TLS with the plan CA: keys before and during the sync arrive, SIGTERM exits 0', async () => {
    // Every read of the source in this test goes through its TLS port, like the sync itself.
    const tlsClient = new Redis({
      host: '127.0.0.1',
      port: source.tlsPort,
      tls: { ca: source.ca, servername: 'localhost' },
      maxRetriesPerRequest: 1,
    });
    clients.push(tlsClient);
    await loadEveryType(tlsClient, { keysPerType: 100 });
    await tlsClient.set('tls:before', 'yes');
    const plan = await writeTlsPlan(
      scratch.path,
      'tls-ok',
      source.tlsPort,
      { ca: `file:${caFile}`, servername: 'localhost' },
      target,
    );
    const cli = startCli(runArgs(plan, join(scratch.path, 'checkpoints-ok')));
    try {
      const writes = startIdempotentWrites(tlsClient);
      await cli.waitFor(/incremental/, 120_000);
      await tlsClient.set('tls:during', 'yes');
      const rounds = await writes.stop();
      expect(rounds).toBeGreaterThan(0);
      await waitUntilCaughtUp(cli, source.server);
      expect(await target.client().get('tls:before')).toBe('yes');
      expect(await target.client().get('tls:during')).toBe('yes');
      await assertSameContents(tlsClient, target.client(), { streamEntriesRead: 'ignore' });
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }, 180_000);

  it('fails with exit 1 naming the address and the certificate problem when the plan trusts only system CAs', async () => {
    const plan = await writeTlsPlan(scratch.path, 'tls-no-ca', source.tlsPort, true, target);
    const cli = startCli(runArgs(plan, join(scratch.path, 'checkpoints-no-ca')));
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), 60_000);
    const code = await cli.exited;
    clearTimeout(timer);
    const output = `${cli.stdout()}\n${cli.stderr()}`;
    expect(code, output).toBe(1);
    const line = output.split('\n').find((text) => text.includes(`127.0.0.1:${source.tlsPort}`));
    expect(line, output).toBeDefined();
    expect(line).toMatch(/self[- ]signed|unable to verify|UNABLE_TO_VERIFY|SELF_SIGNED/i);
  }, 90_000);
});
