import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { SHARD_QUEUE, type ShardJobData, type ShardJobProgress } from '@shardbridge/plan';
import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { ShardControl } from '../queue/shard-control.js';
import { ShardWorker } from '../queue/shard-worker.js';

describe('ShardWorker runs a job whose mode is "scan" with ScanSync', () => {
  let queueRedis: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let queue: Queue<ShardJobData>;
  let worker: ShardWorker;

  beforeAll(async () => {
    [queueRedis, source, target] = await Promise.all([
      startRedis({ config: { appendonly: 'yes' } }),
      startRedis({ config: { 'rename-command': ['PSYNC', ''], 'notify-keyspace-events': '' } }),
      startRedis(),
    ]);
    queue = new Queue<ShardJobData>(SHARD_QUEUE, { connection: { url: queueRedis.url } });
  });

  afterAll(async () => {
    await worker?.stop({ handOff: false });
    await queue?.close();
    await Promise.all([queueRedis?.stop(), source?.stop(), target?.stop()]);
  });

  it('copies, follows live changes, reports scan counters and completes on stop', async () => {
    const sourceClient: Redis = source.client();
    const targetClient: Redis = target.client();
    await sourceClient.mset('a', '1', 'b', '2');
    const address = `${source.host}:${source.port}`;
    const data: ShardJobData = {
      planId: 'scanplan',
      planName: 'scan',
      shardId: 'scanplan-0',
      nodeId: null,
      slots: [[0, 16383]],
      announced: address,
      reachable: address,
      source: { tls: false },
      mode: 'scan',
      configureSource: true,
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`], tls: false },
    };
    await queue.add('shard', data, { jobId: data.shardId });
    worker = new ShardWorker({
      connection: queueRedis.url,
      logger: pino({ level: 'silent' }),
      progressIntervalMs: 100,
      controlPollIntervalMs: 300,
      heartbeatIntervalMs: 500,
    });
    await worker.start();
    const progress = async () => (await queue.getJob(data.shardId))?.progress as ShardJobProgress | undefined;
    await waitFor('live', async () => (await progress())?.phase === 'incremental', 30_000);
    await sourceClient.set('c', '3');
    await sourceClient.del('a');
    await waitFor('live changes on the target', async () => {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((key) => targetClient.get(key)));
      return a === null && b === '2' && c === '3';
    });
    await waitFor(
      'the re-reads in the job progress',
      async () => ((await progress())?.scan?.keysReread ?? 0) >= 2,
    );
    expect((await progress())?.scan).toMatchObject({ phase: 'live', keysScanned: 2, rescans: 0 });
    await ShardControl.requestStop(queueRedis.client(), data.shardId);
    await waitFor(
      'the job to complete',
      async () => (await queue.getJob(data.shardId))?.finishedOn !== undefined,
    );
    expect(await (await queue.getJob(data.shardId))!.getState()).toBe('completed');
  });
});
