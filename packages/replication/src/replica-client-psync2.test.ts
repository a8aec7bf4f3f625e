import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from './replica-client.js';
import type { ReplicaHandlers } from './types.js';

interface Seen {
  fullResync: { replid: string; offset: number } | null;
  continued: { replid: string; offset: number } | null;
  rdbEnd: number | null;
  rdbHead: Buffer | null;
  commands: string[][];
}

function recorder(): [ReplicaHandlers, Seen] {
  const seen: Seen = { fullResync: null, continued: null, rdbEnd: null, rdbHead: null, commands: [] };
  const handlers: ReplicaHandlers = {
    onFullResync: (info) => (seen.fullResync = info),
    onContinue: (info) => (seen.continued = info),
    onRdbStart: () => {},
    onRdbData: (chunk) => (seen.rdbHead ??= Buffer.from(chunk.subarray(0, 9))),
    onRdbEnd: ({ bytes }) => (seen.rdbEnd = bytes),
    onCommand: (args) => seen.commands.push(args.map((a) => a.toString())),
    onClose: () => {},
  };
  return [handlers, seen];
}

describe('ReplicaClient and PSYNC2 after a failover', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  beforeAll(async () => {
    primary = await startRedis({ config: { 'repl-diskless-sync': 'no' } });
    replica = await startRedis({ config: { 'repl-diskless-sync': 'no' } });
    await replica.client().replicaof(primary.host, String(primary.port));
    await waitFor(
      'the real replica link',
      async () => (await replica.info('replication')).master_link_status === 'up',
    );
  });
  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
  });

  it('continues from a promoted replica, which answers +CONTINUE <new replid>', async () => {
    const [h1, seen1] = recorder();
    const first = new ReplicaClient({ host: replica.host, port: replica.port, ackIntervalMs: 100 }, h1);
    await first.start();
    const oldReplid = (await primary.info('replication')).master_replid;
    expect(first.replid).toBe(oldReplid);
    await waitFor('the RDB', () => seen1.rdbEnd !== null);
    await primary.client().set('before', 'failover');
    await waitFor('the chained stream', () => seen1.commands.some((c) => c[1] === 'before'));
    await waitFor('the replica offset', async () => {
      return first.offset === Number((await replica.info('replication')).master_repl_offset);
    });
    await first.close();

    await replica.client().replicaof('NO', 'ONE');
    const promoted = await replica.info('replication');
    expect(promoted.master_replid).not.toBe(oldReplid);
    expect(promoted.master_replid2).toBe(oldReplid);

    const [h2, seen2] = recorder();
    const second = new ReplicaClient(
      {
        host: replica.host,
        port: replica.port,
        ackIntervalMs: 100,
        resume: { replid: first.replid!, offset: first.offset },
      },
      h2,
    );
    await second.start();
    expect(seen2.fullResync).toBeNull();
    expect(seen2.continued).toEqual({ replid: promoted.master_replid, offset: first.offset });
    expect(second.replid).toBe(promoted.master_replid);
    await replica.client().set('after', 'failover');
    const end = Number((await replica.info('replication')).master_repl_offset);
    await waitFor('the stream of the promoted replica', () => second.offset === end);
    expect(seen2.commands).toContainEqual(['set', 'after', 'failover']);
    await second.close();
  });
});

describe('ReplicaClient while the master delays the RDB', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '4' } });
  });
  afterAll(async () => server?.stop());

  it('keeps waiting past connectTimeoutMs while \\n keep-alives arrive before +FULLRESYNC', async () => {
    const [handlers, seen] = recorder();
    const client = new ReplicaClient(
      { host: server.host, port: server.port, connectTimeoutMs: 2500 },
      handlers,
    );
    const began = Date.now();
    await client.start();
    expect(Date.now() - began).toBeGreaterThan(2500);
    await waitFor('the RDB', () => seen.rdbEnd !== null);
    expect(seen.rdbHead?.subarray(0, 7).toString()).toBe('REDIS00');
    await client.close();
  });
});
