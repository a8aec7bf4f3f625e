import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parsePlanText, type Plan } from '@shardbridge/plan';
import { assertSameContents, startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { ScanSync } from '@shardbridge/worker';
import { shardSyncFromPlan } from './run-command.js';

describe('run --direct with mode "scan"', () => {
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: { 'rename-command': ['PSYNC', ''], 'notify-keyspace-events': '' } }),
      startRedis(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'sb-scan-direct-'));
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), dir && rm(dir, { recursive: true, force: true })]);
  });

  it('builds a ScanSync (configureSource honoured) that copies and follows a PSYNC-less source', async () => {
    const parsed = parsePlanText(
      JSON.stringify({
        name: 'direct-scan',
        source: { type: 'standalone', seeds: [`${source.host}:${source.port}`], configureSource: true },
        target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
      }),
    );
    // The plan's `mode` field comes with the mode branch; until then it is added by hand here.
    const plan = { ...parsed, mode: 'scan' } as Plan;
    const client = source.client();
    const targetClient = target.client();
    await client.mset('k1', 'a', 'k2', 'b');
    const sync = shardSyncFromPlan(plan, { checkpointDir: dir, logger: pino({ level: 'silent' }) });
    expect(sync).toBeInstanceOf(ScanSync);
    const run = sync.run();
    await waitFor('live mode', () => ['incremental', 'failed'].includes(sync.progress.phase), 30_000);
    expect(sync.progress.phase).toBe('incremental');
    await client.set('k3', 'c');
    await client.del('k1');
    await waitFor('the copy', () =>
      assertSameContents(client, targetClient).then(
        () => true,
        () => false,
      ),
    );
    await sync.stop();
    await run;
  });
});
