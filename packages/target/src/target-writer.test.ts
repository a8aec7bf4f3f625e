import { startRedis, type RedisServer } from '@shardbridge/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from './errors.js';
import { TargetWriter } from './target-writer.js';

const cmd = (...parts: Array<string | Buffer>): Buffer[] =>
  parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));

function nextError(writer: TargetWriter): Promise<TargetError> {
  return new Promise((resolve) => writer.once('error', resolve));
}

describe('TargetWriter (standalone)', () => {
  let source: RedisServer;
  let target: RedisServer;
  let sourceClient: Redis;
  let targetClient: Redis;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    sourceClient = source.client();
    targetClient = target.client();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const connect = (extra: Partial<Parameters<typeof TargetWriter.connect>[0]> = {}) =>
    TargetWriter.connect({ type: 'standalone', seeds: [{ host: target.host, port: target.port }], ...extra });

  it('restores keys with TTL, idle time and SELECT of their db, acked by the barrier', async () => {
    await sourceClient.set('s', 'hello');
    await sourceClient.rpush('l', 'a', 'b', 'c');
    const stringPayload = await sourceClient.dumpBuffer('s');
    const listPayload = await sourceClient.dumpBuffer('l');
    const expireAt = Date.now() + 3_600_000;

    const writer = await connect();
    const acks: number[] = [];
    writer.on('ack', (o) => acks.push(o));
    expect(writer.acknowledgedOffset).toBe(-1);
    writer.restoreKey({ db: 0, key: Buffer.from('plain'), expireAt: null, payload: stringPayload });
    writer.restoreKey({ db: 3, key: Buffer.from('ttl'), expireAt, payload: listPayload, idle: 500 });
    writer.restoreKey({
      db: 0,
      key: Buffer.from('gone'),
      expireAt: Date.now() - 1000,
      payload: stringPayload,
    });
    writer.restoreKey({
      db: 5,
      key: Buffer.from('\x00bin\xff', 'latin1'),
      expireAt: null,
      payload: stringPayload,
    });
    writer.barrier(12345);
    expect(writer.acknowledgedOffset).toBe(-1);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(12345);
    await new Promise((r) => setImmediate(r));
    expect(acks).toEqual([12345]);
    expect(writer.stats.restoredKeys).toBe(4);
    await writer.close();

    expect(await targetClient.get('plain')).toBe('hello');
    expect(await targetClient.pttl('plain')).toBe(-1);
    expect(await targetClient.exists('gone')).toBe(0);
    const db3 = target.client({ db: 3 });
    // before any read: reads reset the idle time
    expect(Number(await db3.object('IDLETIME', 'ttl'))).toBeGreaterThanOrEqual(500);
    expect(await db3.lrange('ttl', 0, -1)).toEqual(['a', 'b', 'c']);
    expect(Number(await db3.call('pexpiretime', 'ttl'))).toBe(expireAt);
    const db5 = target.client({ db: 5 });
    expect(await db5.get(Buffer.from('\x00bin\xff', 'latin1'))).toBe('hello');
  });

  it('applies commands in source order across dbs and skips PING/REPLCONF', async () => {
    const writer = await connect({ skipCommands: ['publish'] });
    const stream: Array<[Buffer[], number]> = [
      [cmd('SELECT', '1'), 10],
      [cmd('SET', 'k', '1'), 20],
      [cmd('PING'), 30],
      [cmd('INCRBY', 'k', '41'), 40],
      [cmd('select', '2'), 50],
      [cmd('RPUSH', 'list', 'x', 'y'), 60],
      [cmd('REPLCONF', 'GETACK', '*'), 70],
      [cmd('PUBLISH', 'ch', 'skipped'), 75],
      [cmd('SELECT', '1'), 80],
      [cmd('APPEND', 'k', '!'), 90],
      [cmd('SELECT', '2'), 100],
      [cmd('PING'), 110],
    ];
    for (const [args, offset] of stream) writer.applyCommand(args, offset);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(110);
    expect(writer.acknowledgedDb).toBe(2);
    await writer.close();
    expect(await target.client({ db: 1 }).get('k')).toBe('42!');
    expect(await target.client({ db: 2 }).lrange('list', 0, -1)).toEqual(['x', 'y']);
  });

  it('resumes in the db stored with the checkpoint', async () => {
    const writer = await connect();
    writer.setAcknowledgedOffset(1000, 4);
    writer.applyCommand(cmd('SET', 'resumed', 'yes'), 1020);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(1020);
    expect(writer.acknowledgedDb).toBe(4);
    await writer.close();
    expect(await target.client({ db: 4 }).get('resumed')).toBe('yes');
  });

  it('sends MULTI ... EXEC as one unit and never acks inside it', async () => {
    const writer = await connect();
    writer.applyCommand(cmd('SELECT', '0'), 5);
    writer.applyCommand(cmd('SET', 'before', '1'), 10);
    writer.applyCommand(cmd('MULTI'), 20);
    writer.applyCommand(cmd('INCR', 'tx:a'), 30);
    writer.applyCommand(cmd('SELECT', '7'), 40);
    writer.applyCommand(cmd('INCR', 'tx:b'), 50);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(10);
    expect(await targetClient.exists('tx:a')).toBe(0);
    writer.applyCommand(cmd('EXEC'), 60);
    writer.applyCommand(cmd('SET', 'after', '1'), 70);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(70);
    await writer.close();
    expect(await targetClient.get('tx:a')).toBe('1');
    expect(await target.client({ db: 7 }).get('tx:b')).toBe('1');
    expect(await target.client({ db: 7 }).get('after')).toBe('1');
  });

  it('acknowledges an offset only after its reply, and pipelines many commands', async () => {
    const writer = await connect({ maxInFlight: 100 });
    let lastAck = -1;
    writer.on('ack', (o) => {
      expect(o).toBeGreaterThan(lastAck);
      lastAck = o;
    });
    // One synchronous burst: nothing reaches the socket before this tick ends, so nothing can be confirmed.
    let room = true;
    for (let i = 1; i <= 500; i++) room = writer.applyCommand(cmd('SET', `pipe:${i}`, String(i)), i * 10);
    expect(room).toBe(false);
    expect(writer.inFlight).toBe(500);
    expect(writer.acknowledgedOffset).toBe(-1);
    await new Promise<void>((r) => writer.once('drain', r));
    expect(writer.inFlight).toBeLessThan(100);

    let drains = 0;
    writer.on('drain', () => drains++);
    const n = 20_000;
    for (let i = 501; i <= n; i++) {
      if (!writer.applyCommand(cmd('SET', `pipe:${i}`, String(i)), i * 10)) {
        await new Promise<void>((r) => writer.once('drain', r));
      }
    }
    await writer.flush();
    expect(writer.inFlight).toBe(0);
    expect(writer.acknowledgedOffset).toBe(n * 10);
    expect(drains).toBeGreaterThan(0);
    await new Promise((r) => setImmediate(r));
    expect(lastAck).toBe(n * 10);
    await writer.close();
    expect(await targetClient.get(`pipe:${n}`)).toBe(String(n));
  });

  it('bounds the bytes in flight as well as the command count', async () => {
    const writer = await connect({ maxInFlightBytes: 50_000 });
    const value = Buffer.alloc(20_000, 0x78);
    expect(writer.applyCommand(cmd('SET', 'b1', value), 10)).toBe(true);
    expect(writer.applyCommand(cmd('SET', 'b2', value), 20)).toBe(true);
    expect(writer.applyCommand(cmd('SET', 'b3', value), 30)).toBe(false);
    await new Promise<void>((r) => writer.once('drain', r));
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(30);
    await writer.close();
    expect(await targetClient.strlen('b3')).toBe(20_000);
  });

  it('names the command and key of a rejected write, never its value, and stops', async () => {
    const writer = await connect();
    await targetClient.set('str', 'x');
    writer.applyCommand(cmd('SET', 'ok1', '1'), 10);
    writer.applyCommand(cmd('LPUSH', 'str', 'secret-value'), 20);
    writer.applyCommand(cmd('SET', 'ok2', '1'), 30);
    const error = await nextError(writer);
    expect(error.code).toBe('TARGET_WRITE_FAILED');
    expect(error.message).toContain('LPUSH "str"');
    expect(error.message).toContain('WRONGTYPE');
    expect(error.message).not.toContain('secret-value');
    await expect(writer.flush()).rejects.toBe(error);
    expect(writer.acknowledgedOffset).toBe(10);
    expect(() => writer.applyCommand(cmd('SET', 'late', '1'), 40)).toThrow(error);
    await writer.close();
  });

  it('reports an out-of-memory target as TARGET_OOM and acks only what was stored', async () => {
    const small = await startRedis({ config: { maxmemory: '2mb', 'maxmemory-policy': 'noeviction' } });
    try {
      const writer = await TargetWriter.connect({
        type: 'standalone',
        seeds: [{ host: small.host, port: small.port }],
        label: 'shard-0 target',
      });
      const errorPromise = nextError(writer);
      const value = Buffer.alloc(100_000, 0x76);
      for (let i = 1; i <= 200; i++) writer.applyCommand(cmd('SET', `big:${i}`, value), i);
      const error = await errorPromise;
      expect(error.code).toBe('TARGET_OOM');
      expect(error.message).toMatch(/^target shard-0 target is out of memory \(maxmemory reached\)/);
      expect(error.message).toContain('resumes from its checkpoint');
      await expect(writer.flush()).rejects.toBe(error);
      const acked = writer.acknowledgedOffset;
      expect(acked).toBeGreaterThan(0);
      expect(acked).toBeLessThan(200);
      const client = small.client();
      for (let i = 1; i <= acked; i++) expect(await client.exists(`big:${i}`)).toBe(1);
      expect(await client.exists(`big:${acked + 1}`)).toBe(0);
      await writer.close();
    } finally {
      await small.stop();
    }
  });

  it('fails with TARGET_AUTH_FAILED for a wrong or missing password', async () => {
    const secured = await startRedis({ password: 'right' });
    try {
      const seeds = [{ host: secured.host, port: secured.port }];
      const wrong = await TargetWriter.connect({ type: 'standalone', seeds, password: 'wrong' }).catch(
        (e) => e,
      );
      expect(wrong).toBeInstanceOf(TargetError);
      expect(wrong.code).toBe('TARGET_AUTH_FAILED');
      expect(wrong.message).toContain(`${secured.host}:${secured.port}`);
      expect(wrong.message).not.toContain('wrong');
      const missing = await TargetWriter.connect({ type: 'standalone', seeds }).catch((e) => e);
      expect(missing.code).toBe('TARGET_AUTH_FAILED');
      expect(missing.message).toMatch(/requires a password/);
      const ok = await TargetWriter.connect({ type: 'standalone', seeds, password: 'right' });
      ok.applyCommand(cmd('SET', 'authed', '1'), 1);
      await ok.flush();
      await ok.close();
    } finally {
      await secured.stop();
    }
  });

  it('authenticates as an ACL user', async () => {
    const acl = await startRedis({ username: 'syncer', password: 'pw' });
    try {
      const seeds = [{ host: acl.host, port: acl.port }];
      const writer = await TargetWriter.connect({
        type: 'standalone',
        seeds,
        username: 'syncer',
        password: 'pw',
      });
      writer.applyCommand(cmd('SET', 'acl', '1'), 1);
      await writer.flush();
      await writer.close();
      await expect(writer.flush()).rejects.toMatchObject({ code: 'TARGET_CLOSED' });
      const wrongUser = await TargetWriter.connect({
        type: 'standalone',
        seeds,
        username: 'nobody',
        password: 'pw',
      }).catch((e) => e);
      expect(wrongUser.code).toBe('TARGET_AUTH_FAILED');
    } finally {
      await acl.stop();
    }
  });

  it('fails with TARGET_CONNECT_FAILED when the target is down or silent', async () => {
    const refused = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: '127.0.0.1', port: 1 }],
      label: 'nowhere',
    }).catch((e) => e);
    expect(refused.code).toBe('TARGET_CONNECT_FAILED');
    expect(refused.message).toMatch(/cannot connect to target nowhere: ECONNREFUSED/);

    const paused = await startRedis();
    try {
      await paused.pause();
      const silent = await TargetWriter.connect({
        type: 'standalone',
        seeds: [{ host: paused.host, port: paused.port }],
        connectTimeoutMs: 300,
      }).catch((e) => e);
      expect(silent.code).toBe('TARGET_CONNECT_FAILED');
      expect(silent.message).toMatch(/did not answer within 300 ms/);
      await paused.resume();
    } finally {
      await paused.stop();
    }
  });

  it('treats a target that stops answering as fatal after replyTimeoutMs', async () => {
    const frozen = await startRedis();
    try {
      const writer = await TargetWriter.connect({
        type: 'standalone',
        seeds: [{ host: frozen.host, port: frozen.port }],
        replyTimeoutMs: 400,
      });
      writer.applyCommand(cmd('SET', 'a', '1'), 10);
      await writer.flush();
      // idle with nothing in flight is fine
      await new Promise((r) => setTimeout(r, 600));
      await frozen.pause();
      const errorPromise = nextError(writer);
      writer.applyCommand(cmd('SET', 'b', '1'), 20);
      const error = await errorPromise;
      expect(error.code).toBe('TARGET_CONNECT_FAILED');
      expect(error.message).toMatch(/answered nothing for \d+ ms with 1 command/);
      expect(writer.acknowledgedOffset).toBe(10);
      await writer.close();
      await frozen.resume();
    } finally {
      await frozen.stop();
    }
  });

  it('treats a lost connection as fatal and never re-sends', async () => {
    const doomed = await startRedis();
    try {
      const writer = await TargetWriter.connect({
        type: 'standalone',
        seeds: [{ host: doomed.host, port: doomed.port }],
      });
      writer.applyCommand(cmd('SET', 'a', '1'), 10);
      await writer.flush();
      const errorPromise = nextError(writer);
      await doomed.kill('SIGKILL');
      const error = await errorPromise;
      expect(error.code).toBe('TARGET_CONNECTION_LOST');
      expect(error.message).toMatch(/lost the connection/);
      expect(writer.acknowledgedOffset).toBe(10);
      expect(() => writer.applyCommand(cmd('SET', 'b', '1'), 20)).toThrow(error);
      await writer.close();
    } finally {
      await doomed.stop();
    }
  });
});
