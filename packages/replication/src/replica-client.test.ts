import { startRedis, waitFor, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from './replica-client.js';
import type { ReplicaClientOptions, ReplicaHandlers } from './types.js';

/** Everything a client reported, plus the handlers that record it. */
class Recorder implements ReplicaHandlers {
  fullResync: { replid: string; offset: number } | null = null;
  continued: { replid: string; offset: number } | null = null;
  rdbSize: number | null | undefined = undefined;
  rdbChunks: Buffer[] = [];
  rdbEnd: number | null = null;
  commands: Array<{ args: string[]; offset: number }> = [];
  closed: Error | null | undefined = undefined;
  /** set to a client to acknowledge every command as soon as it is delivered */
  ackTo: ReplicaClient | null = null;
  onEveryCommand: ((args: Buffer[]) => void) | null = null;

  onFullResync(info: { replid: string; offset: number }): void {
    this.fullResync = info;
  }
  onContinue(info: { replid: string; offset: number }): void {
    this.continued = info;
  }
  onRdbStart(info: { size: number | null }): void {
    this.rdbSize = info.size;
  }
  onRdbData(chunk: Buffer): void {
    this.rdbChunks.push(Buffer.from(chunk));
  }
  onRdbEnd(info: { bytes: number }): void {
    this.rdbEnd = info.bytes;
  }
  onCommand(args: Buffer[], offsetAfter: number): void {
    this.commands.push({ args: args.map((a) => a.toString()), offset: offsetAfter });
    this.ackTo?.setAcknowledgedOffset(offsetAfter);
    this.onEveryCommand?.(args);
  }
  onClose(error: Error | null): void {
    this.closed = error;
  }
  get rdb(): Buffer {
    return Buffer.concat(this.rdbChunks);
  }
  /** commands other than the master's keep-alive PINGs and REPLCONF GETACK */
  get dataCommands(): string[][] {
    return this.commands.map((c) => c.args).filter((a) => a[0] !== 'PING' && a[0] !== 'REPLCONF');
  }
}

function connect(server: RedisServer, extra: Partial<ReplicaClientOptions> = {}): [ReplicaClient, Recorder] {
  const recorder = new Recorder();
  const client = new ReplicaClient(
    {
      host: server.host,
      port: server.port,
      connectTimeoutMs: 5000,
      readTimeoutMs: 20_000,
      ackIntervalMs: 100,
      ...extra,
    },
    recorder,
  );
  recorder.ackTo = client;
  return [client, recorder];
}

async function masterOffset(server: RedisServer): Promise<number> {
  return Number((await server.info('replication')).master_repl_offset);
}

describe.each([
  ['disk', 'no'],
  ['diskless', 'yes'],
])('ReplicaClient full resync (%s)', (mode, diskless) => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'repl-diskless-sync': diskless } });
    const redis = server.client();
    for (let i = 0; i < 500; i++) await redis.set(`pre:${i}`, `value-${i}`);
  });
  afterAll(async () => server?.stop());

  it('receives the RDB, then the command stream with the master offsets, and ACKs', async () => {
    const [client, rec] = connect(server, { listeningPort: 6399 });
    await client.start();
    expect(rec.fullResync?.replid).toMatch(/^[0-9a-f]{40}$/);
    expect(client.replid).toBe(rec.fullResync?.replid);
    await waitFor('the RDB', () => rec.rdbEnd !== null);
    expect(rec.rdbSize).toBe(mode === 'disk' ? rec.rdbEnd : null);
    expect(rec.rdb.length).toBe(rec.rdbEnd);
    expect(rec.rdb.subarray(0, 7).toString()).toBe('REDIS00');
    expect(rec.rdb.includes(Buffer.from('pre:499'))).toBe(true);

    const redis = server.client();
    await redis.set('k1', 'v\r\n1');
    await redis.lpush('list', 'a', 'b');
    await redis.del('k1');
    const expectedOffset = await masterOffset(server);
    await waitFor('the stream to reach master_repl_offset', () => client.offset === expectedOffset);
    expect(rec.dataCommands).toEqual(
      expect.arrayContaining([
        ['set', 'k1', 'v\r\n1'],
        ['lpush', 'list', 'a', 'b'],
        ['del', 'k1'],
      ]),
    );
    // every offset is the master's offset after that command: strictly increasing, ending at the master's
    const offsets = rec.commands.map((c) => c.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(offsets.at(-1)).toBe(expectedOffset);

    await waitFor('the master to list us with our ACK offset', async () => {
      const info = await server.info('replication');
      return info.connected_slaves === '1' && (info.slave0 ?? '').includes(`offset=${expectedOffset}`);
    });
    expect((await server.info('replication')).slave0).toContain('port=6399');
    // WAIT makes the master send REPLCONF GETACK *; our immediate ACK lets it return 1 replica
    await redis.set('k2', 'v2');
    expect(await redis.wait(1, 5000)).toBe(1);
    expect(rec.commands.some((c) => c.args[0] === 'REPLCONF' && c.args[1] === 'GETACK')).toBe(true);

    await client.close();
    expect(rec.closed).toBeNull();
  });

  it('keeps exact offsets when writes race the RDB transfer', async () => {
    const redis = server.client();
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const pipeline = redis.pipeline();
        for (let i = 0; i < 50; i++) pipeline.incr('race').set(`race:${i}`, 'z'.repeat(i * 10));
        await pipeline.exec();
      }
    })();
    try {
      const [client, rec] = connect(server);
      await client.start();
      await waitFor('the RDB', () => rec.rdbEnd !== null);
      await new Promise((r) => setTimeout(r, 100));
      writing = false;
      await writer;
      const end = await masterOffset(server);
      await waitFor('the stream to reach master_repl_offset', () => client.offset === end);
      expect(rec.dataCommands.some((a) => a[0] === 'incr')).toBe(true);
      await client.close();
    } finally {
      writing = false;
      await writer;
    }
  });
});

describe('ReplicaClient resume and link loss', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'repl-diskless-sync': 'no', 'repl-backlog-size': '16kb' } });
  });
  afterAll(async () => server?.stop());

  async function stats(): Promise<{ full: number; partial: number }> {
    const info = await server.info('stats');
    return { full: Number(info.sync_full), partial: Number(info.sync_partial_ok) };
  }

  it('continues with +CONTINUE from the saved (replid, offset) after close()', async () => {
    const redis = server.client();
    const [first, rec1] = connect(server);
    await first.start();
    await redis.set('a', '1');
    const target = await masterOffset(server);
    await waitFor('the first link to catch up', () => first.offset === target);
    await first.close();
    const saved = { replid: first.replid!, offset: first.offset };

    await redis.set('b', '2');
    await redis.incr('counter');
    const before = await stats();

    const [second, rec2] = connect(server, { resume: saved });
    await second.start();
    expect(rec2.continued).toEqual({ replid: saved.replid, offset: saved.offset });
    expect(rec2.fullResync).toBeNull();
    const end = await masterOffset(server);
    await waitFor('the resumed stream to catch up', () => second.offset === end);
    expect(rec2.dataCommands).toEqual(
      expect.arrayContaining([
        ['set', 'b', '2'],
        ['incr', 'counter'],
      ]),
    );
    expect(rec2.dataCommands).not.toContainEqual(['set', 'a', '1']);
    expect(rec1.dataCommands).toContainEqual(['set', 'a', '1']);
    const after = await stats();
    expect(after.partial).toBe(before.partial + 1);
    expect(after.full).toBe(before.full);
    await second.close();
  });

  it('falls back to FULLRESYNC when the backlog no longer holds the resume offset', async () => {
    const redis = server.client();
    const [first, rec1] = connect(server);
    await first.start();
    await waitFor('the RDB', () => rec1.rdbEnd !== null);
    await first.close();
    const saved = { replid: first.replid!, offset: first.offset };
    const value = 'x'.repeat(1024);
    for (let i = 0; i < 40; i++) await redis.set(`big:${i}`, value); // > 16 kB while disconnected

    const [second, rec] = connect(server, { resume: saved });
    await second.start();
    expect(rec.continued).toBeNull();
    expect(rec.fullResync?.offset).toBeGreaterThan(saved.offset);
    await waitFor('the RDB', () => rec.rdbEnd !== null);
    await second.close();
  });

  it('reports CLIENT KILL TYPE replica as REPL_CONNECTION_CLOSED through onClose', async () => {
    const [client, rec] = connect(server);
    await client.start();
    await waitFor('the RDB', () => rec.rdbEnd !== null);
    await server.client().client('KILL', 'TYPE', 'replica');
    await waitFor('onClose', () => rec.closed !== undefined);
    expect(rec.closed).toMatchObject({ code: 'REPL_CONNECTION_CLOSED' });
    expect(rec.closed?.message).toContain(`${server.host}:${server.port}`);
  });

  it('pause() inside onRdbData holds the rest of the RDB until resume()', async () => {
    const redis = server.client();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 2000; i++) pipeline.set(`rdb:${i}`, 'y'.repeat(200)); // ~400 kB: several socket chunks
    await pipeline.exec();
    const rec = new Recorder();
    let client: ReplicaClient | null = null;
    let calls = 0;
    const onRdbData = rec.onRdbData.bind(rec);
    rec.onRdbData = (chunk) => {
      onRdbData(chunk);
      if (++calls === 1) client!.pause();
    };
    client = new ReplicaClient({ host: server.host, port: server.port, ackIntervalMs: 100 }, rec);
    await client.start();
    await waitFor('the first RDB chunk', () => calls === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    expect(rec.rdbEnd).toBeNull();
    client.resume();
    await waitFor('the rest of the RDB', () => rec.rdbEnd !== null);
    expect(rec.rdb.length).toBe(rec.rdbSize);
    await client.close();
  });

  it('a handler that throws ends the link with its error', async () => {
    const [client, rec] = connect(server);
    const boom = new Error('consumer failed');
    rec.onEveryCommand = () => {
      throw boom;
    };
    await client.start();
    await server.client().set('t', '1');
    await waitFor('onClose', () => rec.closed !== undefined);
    expect(rec.closed).toBe(boom);
  });

  it('pause() inside onCommand holds every further callback until resume()', async () => {
    const redis = server.client();
    const [client, rec] = connect(server);
    await client.start();
    await waitFor('the RDB', () => rec.rdbEnd !== null);
    let pausedAt = -1;
    rec.onEveryCommand = (args) => {
      if (args[0].toString() === 'set' && pausedAt < 0) {
        pausedAt = rec.commands.length;
        client.pause();
      }
    };
    const pipeline = redis.pipeline();
    for (let i = 0; i < 200; i++) pipeline.set(`p:${i}`, String(i));
    await pipeline.exec();
    const end = await masterOffset(server);
    await waitFor('the pause', () => pausedAt > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.commands.length).toBe(pausedAt);
    client.resume();
    await waitFor('the rest after resume()', () => client.offset === end);
    expect(rec.dataCommands.filter((a) => a[0] === 'set' && a[1].startsWith('p:'))).toHaveLength(200);
    await client.close();
  });
});
