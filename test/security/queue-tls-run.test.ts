import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  loadEveryType,
  startRedis,
  startTlsRedis,
  type RedisServer,
  type TlsRedis,
} from '@shardbridge/testkit';
import { runCli } from '../support/cli-process.js';
import { scratchDir, writePlan } from '../support/sync-harness.js';

const QUEUE_PASSWORD = 'queue-run-Secret-77d2';

/**
 * `shardbridge run --queue rediss://…` with the queue TLS flags: the all-in-one coordinator and workers reach a
 * queue Redis that requires a client certificate and an ACL password, and the printed queue address hides the
 * password.
 */
describe('shardbridge run with a TLS queue Redis', () => {
  let queue: TlsRedis;
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [queue, source, target, scratch] = await Promise.all([
      startTlsRedis({ requireClientCert: true, username: 'sb-queue', password: QUEUE_PASSWORD }),
      startRedis(),
      startRedis(),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([queue?.stop(), source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it('syncs through the TLS queue and never prints its password', async () => {
    await loadEveryType(source.client(), { keysPerType: 10 });
    const plan = await writePlan(scratch.path, source, target, 'queue-tls');
    // mode "full": the run exits by itself once the RDB is loaded.
    await writeFile(plan, JSON.stringify({ ...JSON.parse(await readFile(plan, 'utf8')), mode: 'full' }));
    const queueUrl = `rediss://sb-queue:${QUEUE_PASSWORD}@127.0.0.1:${queue.tlsPort}`;
    const run = await runCli(
      [
        'run',
        plan,
        '--queue',
        queueUrl,
        '--queue-tls-ca',
        queue.files.ca,
        '--queue-tls-cert',
        queue.files.clientCert,
        '--queue-tls-key',
        'env:SB_QUEUE_RUN_KEY',
      ],
      { SB_QUEUE_RUN_KEY: queue.clientKey.toString() },
      120_000,
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.code, output).toBe(0);
    expect(run.stdout).toContain(`queue rediss://sb-queue:***@127.0.0.1:${queue.tlsPort}`);
    expect(output).not.toContain(QUEUE_PASSWORD);
    await assertSameContents(source.client(), target.client(), { streamEntriesRead: 'ignore' });
    // The jobs went through this queue (read on its plain admin port).
    const keys = await queue.server.client().keys('bull:*');
    expect(keys.length).toBeGreaterThan(0);
  }, 180_000);

  it('an unreadable queue TLS file fails at once with one line naming it, never the password', async () => {
    const plan = await writePlan(scratch.path, source, target, 'queue-tls-no-cert');
    const run = await runCli(
      [
        'run',
        plan,
        '--queue',
        `rediss://sb-queue:${QUEUE_PASSWORD}@127.0.0.1:${queue.tlsPort}`,
        '--queue-tls-ca',
        join(scratch.path, 'missing-ca.pem'),
      ],
      {},
      60_000,
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.code, output).toBe(1);
    expect(output).toContain('queue TLS CA: cannot read');
    expect(output).not.toContain(QUEUE_PASSWORD);
    expect(output).not.toMatch(/^\s+at /m);
  }, 90_000);
});
