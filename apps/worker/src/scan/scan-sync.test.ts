import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  assertSameContents,
  ContentsMismatchError,
  loadEveryType,
  startRedis,
  waitFor,
  type RedisServer,
} from '@shardbridge/testkit';
import { ShardSyncError } from '../sync-errors.js';
import { ScanSync, type ScanSyncOptions } from './scan-sync.js';

const logger = pino({ level: 'silent' });
/** A managed-service-like source: replication commands renamed away. */
const NO_PSYNC = { 'rename-command': ['PSYNC', ''] };

/** One round of writes of every kind scan mode must follow (consumer-group reads are documented as missed). */
async function writeBurst(client: Redis, round: number): Promise<void> {
  const r = round;
  const p = client.pipeline();
  p.set(`burst:str:${r % 40}`, `v${r}`);
  p.del(`str:${(r * 7) % 200}`);
  p.expire(`burst:str:${(r + 3) % 40}`, 3600);
  if (r % 5 === 0) p.pexpire(`int:${r % 200}`, 50); // expires on the source: the `expired` event deletes it
  p.lpush('burst:list', `l${r}`);
  if (r % 3 === 0) p.rpop('burst:list');
  p.hset(`hash:${r % 100}`, `f${r % 9}`, `v${r}`);
  p.zadd('zset:big', r, `burst${r % 25}`);
  p.xadd('burst:stream', '*', 'round', String(r));
  p.sadd(`set:${r % 50}`, `s${r}`);
  p.rename(`list:${(r % 90) + 100}`, `renamed:list:${r}`);
  p.select(1);
  p.incr('db1:counter');
  p.select(5);
  p.hincrby('db5:hash', 'n', 1);
  p.select(0);
  // a transaction's writes are notified one by one, like any others
  p.multi();
  p.incr('burst:tx');
  p.set('burst:tx:last', String(r));
  p.exec();
  await p.exec();
}

/** Polls until source and target hold the same data (or throws the last difference). */
async function expectEqualSoon(source: Redis, target: Redis, timeoutMs = 30_000): Promise<void> {
  let last: unknown = null;
  try {
    await waitFor(
      'the target to equal the source',
      async () => {
        try {
          await assertSameContents(source, target);
          return true;
        } catch (error) {
          if (!(error instanceof ContentsMismatchError)) throw error;
          last = error;
          return false;
        }
      },
      timeoutMs,
    );
  } catch (error) {
    throw last ?? error;
  }
}

describe('ScanSync: a source that forbids PSYNC', () => {
  let source: RedisServer;
  let target: RedisServer;
  let sourceClient: Redis;
  let targetClient: Redis;
  const running: ScanSync[] = [];

  function scanSync(server: RedisServer, overrides: Partial<ScanSyncOptions> = {}): ScanSync {
    const sync = new ScanSync({
      shardId: 'scan-test-0',
      source: { host: server.host, port: server.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      logger,
      rttIntervalMs: 0,
      progressIntervalMs: 100,
      reconnectBaseDelayMs: 50,
      ...overrides,
    });
    running.push(sync);
    return sync;
  }

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: { ...NO_PSYNC, 'notify-keyspace-events': '' } }),
      startRedis(),
    ]);
    sourceClient = source.client();
    targetClient = target.client();
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((sync) => sync.stop()));
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('notifications off and configureSource unset: fails at once naming the address and the CONFIG SET line', async () => {
    await expect(sourceClient.call('PSYNC', '?', '-1')).rejects.toThrow(/unknown command/i);
    const sync = scanSync(source);
    const failure = await sync.run().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ShardSyncError);
    expect((failure as ShardSyncError).code).toBe('SCAN_NOTIFY_DISABLED');
    const message = (failure as Error).message;
    expect(message).toContain(`${source.host}:${source.port}`);
    expect(message).toContain('CONFIG SET notify-keyspace-events KA');
    expect(message).toContain('"configureSource": true');
    expect(sync.progress.phase).toBe('failed');
    expect(await sourceClient.config('GET', 'notify-keyspace-events')).toEqual([
      'notify-keyspace-events',
      '',
    ]);
  });

  it('full copy of every type, then a write burst during and after the scan arrives; equal at the end', async () => {
    await targetClient.flushall();
    await loadEveryType(sourceClient, { keysPerType: 200 });
    const sync = scanSync(source, { configureSource: true, scanCount: 50, maxReadsInFlight: 16 });
    const phases = new Set<string>();
    const sawScan = new Set<string>();
    const run = sync.run();
    let round = 0;
    // Writes while the pass runs (small SCAN COUNT and read window keep it running a while)...
    await waitFor(
      'the scan to start',
      () => sync.progress.phase === 'full-sync' || sync.progress.phase === 'failed',
    );
    while (sync.progress.phase === 'full-sync') {
      phases.add(sync.progress.phase);
      sawScan.add(sync.progress.scan!.phase);
      await writeBurst(sourceClient, round++);
    }
    const roundsDuringScan = round;
    // ... and after it, in live mode.
    await waitFor('live mode', () => sync.progress.phase === 'incremental');
    for (let i = 0; i < 60; i++) await writeBurst(sourceClient, round++);
    await expectEqualSoon(sourceClient, targetClient);
    const { scan, keysWritten } = sync.progress;
    expect(scan).toMatchObject({ phase: 'live', rescans: 0 });
    expect(scan!.keysScanned).toBeGreaterThan(1000);
    expect(scan!.keysReread).toBeGreaterThan(0);
    expect(scan!.keysDeleted).toBeGreaterThan(0);
    expect(keysWritten).toBeGreaterThan(1000);
    expect(roundsDuringScan).toBeGreaterThan(0);
    expect(sawScan.has('scan')).toBe(true);
    // configureSource: ShardBridge turned the notifications on, keeping nothing else off
    const [, flags] = (await sourceClient.config('GET', 'notify-keyspace-events')) as string[];
    expect(flags).toContain('K');
    await sync.stop();
    await run;
    expect(sync.progress.phase).toBe('stopped');
  });

  it('more changed keys than the dirty set holds: it drops them, re-scans (counted) and still ends equal', async () => {
    await targetClient.flushall();
    const sync = scanSync(source, { configureSource: true, maxDirtyKeys: 5, maxReadsInFlight: 1 });
    const run = sync.run();
    await waitFor('live mode', () => sync.progress.phase === 'incremental', 30_000);
    for (let i = 0; i < 30; i++) await writeBurst(sourceClient, 3000 + i);
    await waitFor('a re-scan', () => sync.progress.scan!.rescans >= 1, 30_000);
    await expectEqualSoon(sourceClient, targetClient);
    expect(sync.progress.reconnects).toBe(0);
    await sync.stop();
    await run;
  });

  it('deletions no notification reported (made while no sync ran) are reconciled by the next pass', async () => {
    await targetClient.flushall();
    await sourceClient.mset('gone:1', 'a', 'gone:2', 'b', 'stays', 'c');
    const first = scanSync(source, { configureSource: true });
    const firstRun = first.run();
    await waitFor('live mode', () => first.progress.phase === 'incremental', 30_000);
    await expectEqualSoon(sourceClient, targetClient);
    await first.stop();
    await firstRun;
    // While no shard runs: deletions and a RENAME (its old name vanishes) nobody hears of.
    await sourceClient.del('gone:1', 'gone:2');
    await sourceClient.rename('hash:5', 'hash:5:renamed');
    const second = scanSync(source);
    const secondRun = second.run();
    await waitFor('live mode', () => second.progress.phase === 'incremental', 30_000);
    await expectEqualSoon(sourceClient, targetClient);
    expect(second.progress.scan!.staleKeysDeleted).toBe(3);
    await second.stop();
    await secondRun;
    // Without the reconcile, the documented gap: the target keeps keys deleted while no notification could tell.
    await sourceClient.del('stays');
    const third = scanSync(source, { reconcileTarget: false });
    const thirdRun = third.run();
    await waitFor('live mode', () => third.progress.phase === 'incremental', 30_000);
    expect(await targetClient.exists('stays')).toBe(1);
    await third.stop();
    await thirdRun;
    await targetClient.del('stays');
  });

  it('a lost notification connection: resubscribes, re-scans (counted) and catches up', async () => {
    await targetClient.flushall();
    const sync = scanSync(source, { configureSource: true });
    const run = sync.run();
    await waitFor('live mode', () => sync.progress.phase === 'incremental', 30_000);
    await sourceClient.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    // Written while the subscriber may be gone: only the re-scan can bring these over.
    for (let i = 0; i < 20; i++) await writeBurst(sourceClient, 1000 + i);
    await waitFor('a re-scan', () => sync.progress.scan!.rescans >= 1, 30_000);
    await waitFor('live mode again', () => sync.progress.phase === 'incremental', 30_000);
    for (let i = 0; i < 20; i++) await writeBurst(sourceClient, 2000 + i);
    await expectEqualSoon(sourceClient, targetClient);
    expect(sync.progress.reconnects).toBeGreaterThanOrEqual(1);
    expect(sync.progress.lastDisconnect?.code).toBe('SCAN_SOURCE_LOST');
    await sync.stop();
    await run;
  });
});

describe('ScanSync: a least-privilege ACL user (as the README lists it)', () => {
  const user = (grants: string[]) => [
    '--user',
    'scanner',
    'on',
    '>scan-pw',
    '~*',
    'resetchannels',
    '&__keyspace@*__:*',
    '&__keyevent@*__:*',
    '-@all',
    ...grants,
  ];
  const GRANTS = [
    '+scan',
    '+dump',
    '+pttl',
    '+exists',
    '+info',
    '+select',
    '+psubscribe',
    '+config|get',
    '+ping',
  ];

  it('without +dump: fails naming the address, the command and the grants', async () => {
    const source = await startRedis({
      config: { ...NO_PSYNC, 'notify-keyspace-events': 'KA' },
      args: user(GRANTS.filter((grant) => grant !== '+dump')),
    });
    const target = await startRedis();
    try {
      await source.client().set('a', '1');
      const sync = new ScanSync({
        shardId: 'acl-1',
        source: { host: source.host, port: source.port, username: 'scanner', password: 'scan-pw' },
        target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
        logger,
        rttIntervalMs: 0,
      });
      const failure = await sync.run().then(
        () => null,
        (error: unknown) => error,
      );
      expect((failure as ShardSyncError).code).toBe('SCAN_COMMAND_REFUSED');
      expect((failure as Error).message).toContain(`${source.host}:${source.port}`);
      expect((failure as Error).message).toContain('refused DUMP/PTTL (NOPERM');
      expect((failure as Error).message).toContain('+dump');
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  });

  it('copies and follows with +scan +dump +pttl +exists +info +select +psubscribe +config|get and the channels', async () => {
    const source = await startRedis({
      config: { ...NO_PSYNC, 'notify-keyspace-events': 'KA' },
      args: user(GRANTS),
    });
    const target = await startRedis();
    try {
      const client = source.client();
      const targetClient = target.client();
      await client.mset('a', '1', 'b', '2');
      await targetClient.set('stale', 'x');
      const sync = new ScanSync({
        shardId: 'acl-0',
        source: { host: source.host, port: source.port, username: 'scanner', password: 'scan-pw' },
        target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
        logger,
        rttIntervalMs: 0,
      });
      const run = sync.run();
      await waitFor('live mode', () => ['incremental', 'failed'].includes(sync.progress.phase), 30_000);
      expect(sync.progress.lastError).toBeNull();
      await client.set('c', '3');
      await client.del('a');
      await expectEqualSoon(client, targetClient);
      await sync.stop();
      await run;
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  });
});

describe('ScanSync: CONFIG refused, as on managed services', () => {
  let target: RedisServer;
  const servers: RedisServer[] = [];

  beforeAll(async () => {
    target = await startRedis();
    servers.push(target);
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('notifications off: fails with the managed-service hint', async () => {
    const source = await startRedis({
      config: { ...NO_PSYNC, 'notify-keyspace-events': '' },
      args: ['--rename-command', 'CONFIG', ''],
    });
    servers.push(source);
    const sync = new ScanSync({
      shardId: 'managed-0',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      logger,
      rttIntervalMs: 0,
      configureSource: true,
      probeTimeoutMs: 1000,
    });
    const failure = await sync.run().then(
      () => null,
      (error: unknown) => error,
    );
    expect((failure as ShardSyncError).code).toBe('SCAN_CONFIG_FORBIDDEN');
    expect((failure as Error).message).toMatch(/parameter group/);
    expect((failure as Error).message).toContain(`${source.host}:${source.port}`);
  });

  it('notifications on (set by the service): a probe confirms them and the copy proceeds', async () => {
    const source = await startRedis({
      config: { ...NO_PSYNC, 'notify-keyspace-events': 'KA' },
      args: ['--rename-command', 'CONFIG', ''],
    });
    servers.push(source);
    const client = source.client();
    const targetClient = target.client();
    await targetClient.flushall();
    await client.mset('a', '1', 'b', '2');
    const sync = new ScanSync({
      shardId: 'managed-1',
      source: { host: source.host, port: source.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      logger,
      rttIntervalMs: 0,
    });
    const run = sync.run();
    await waitFor(
      'live mode',
      () => sync.progress.phase === 'incremental' || sync.progress.phase === 'failed',
    );
    expect(sync.progress.phase).toBe('incremental');
    await client.set('c', '3');
    await client.del('a');
    await waitFor('the probe key to expire on both sides', async () => (await client.dbsize()) === 2);
    await expectEqualSoon(client, targetClient);
    await sync.stop();
    await run;
  });
});
