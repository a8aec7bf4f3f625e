import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import type { ShardJobData } from '@shardbridge/plan';
import type { RunningCoordinator } from './start-coordinator.js';
import { call, queueOf, standalonePlan, startApp } from './test-support/harness.js';

let queueRedis: RedisServer;
let source: RedisServer;
let target: RedisServer;
let cluster: RedisCluster;
let coordinator: RunningCoordinator;
let queue: Queue<ShardJobData>;

beforeAll(async () => {
  [queueRedis, source, target, cluster] = await Promise.all([
    startRedis(),
    startRedis(),
    startRedis(),
    startCluster({ masters: 3 }),
  ]);
  coordinator = await startApp(queueRedis);
  queue = queueOf(queueRedis);
  const client = source.client();
  await client.set('in-db-0', 'x');
  await client.select(3);
  await client.set('in-db-3', 'x');
});

afterAll(async () => {
  await queue?.close();
  await coordinator?.close();
  await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop(), cluster?.stop()]);
});

function intoCluster(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const [seed] = cluster.nodes;
  return {
    ...standalonePlan(source, target, name),
    target: { type: 'cluster', seeds: [`${seed.host}:${seed.port}`] },
    ...extra,
  };
}

describe('POST /v1/plans: mode, targetMode and filter', () => {
  it('refuses a source db a cluster target cannot hold, naming it and the dbMap to add, even with force', async () => {
    for (const force of [false, true]) {
      const answer = await call(coordinator.url, '/v1/plans', {
        body: intoCluster(`dbs-${force}`, { force }),
      });
      expect(answer.status, answer.text).toBe(422);
      expect(answer.body.code).toBe('PREFLIGHT_FAILED');
      expect(answer.body.problems).toContainEqual(
        expect.objectContaining({
          code: 'TARGET_DB_UNSUPPORTED',
          address: `${source.host}:${source.port}`,
          message: expect.stringContaining('db 3'),
          fix: expect.stringContaining('"dbMap": {"3": 0}'),
        }),
      );
    }
  });

  it('accepts the plan once dbMap maps the db to 0, and the jobs carry mode, targetMode and filter', async () => {
    const filter = { dbMap: { '3': 0 }, keys: { prefixes: ['in-'] } };
    const answer = await call(coordinator.url, '/v1/plans', {
      body: intoCluster('dbs-mapped', { mode: 'full', targetMode: 'skip-existing', filter }),
    });
    expect(answer.status, answer.text).toBe(201);
    const job = await queue.getJob(answer.body.shards[0].jobId);
    expect(job?.data).toMatchObject({ mode: 'full', targetMode: 'skip-existing', filter });
  });

  it('fail-if-not-empty: a target holding keys is refused at plan time, naming the node and the db', async () => {
    const targetClient = target.client();
    await targetClient.select(4);
    await targetClient.set('already-here', '1');
    const answer = await call(coordinator.url, '/v1/plans', {
      body: { ...standalonePlan(source, target, 'not-empty'), targetMode: 'fail-if-not-empty', force: true },
    });
    expect(answer.status, answer.text).toBe(422);
    expect(answer.body.problems).toEqual([
      expect.objectContaining({
        code: 'TARGET_NOT_EMPTY',
        address: `${target.host}:${target.port}`,
        message: expect.stringContaining('db 4'),
      }),
    ]);
  });
});
