import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { ShardJobProgress } from '@shardbridge/plan';
import {
  startFaultProxy,
  startRedis,
  waitFor,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { MemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.js';
import { JobProgressReporter } from '../queue/job-progress-reporter.js';
import { ShardSync } from '../shard-sync.js';

const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });

// Issue 13, item 5: lag across a long round trip. The source sits behind a proxy that holds every chunk 60 ms each
// way (120 ms round trip). Idle and caught up, the lag is 0 whatever the round trip; while a burst is in flight
// every report with unconfirmed bytes has a lag above 0, and no lag is older than the burst itself.

describe('lag across a delayed source link (real redis-server, 120 ms round trip)', () => {
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    proxy = await startFaultProxy({ host: source.host, port: source.port });
    proxy.setDelay(60);
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('reports 0 when caught up, and a lag above 0 and no older than the burst while it is in flight', async () => {
    const reports: ShardJobProgress[] = [];
    const reporter = new JobProgressReporter({
      workerId: 'lag-test',
      intervalMs: 0,
      publish: async (report) => {
        reports.push(report);
      },
      onError: () => undefined,
    });
    const sync = new ShardSync({
      shardId: 'lag-0',
      source: { host: proxy.host, port: proxy.port },
      target: { type: 'standalone', seeds: [{ host: target.host, port: target.port }] },
      checkpoints: new MemoryCheckpointStore(),
      logger,
      rttIntervalMs: 200,
      progressIntervalMs: 50,
      onProgress: (progress) => reporter.onProgress(progress),
    });
    const running = sync.run();
    running.catch(() => undefined);
    const latest = () => reports[reports.length - 1];
    const sourceClient = source.client();
    const targetClient = target.client();
    try {
      await waitFor('the shard streaming', () => sync.progress.phase === 'incremental', 30_000);
      await sourceClient.set('warm', '1');
      await waitFor('the first write on the target', async () => (await targetClient.get('warm')) === '1');
      await waitFor(
        'an idle, caught-up report',
        () => latest()?.lagBytes === 0 && latest()?.lagMs === 0 && (latest()?.rttMs ?? 0) > 0,
        30_000,
      );
      // The round trip is the link's, not lag.
      expect(latest().rttMs).toBeGreaterThanOrEqual(100);

      // A cap keeps the burst in flight for seconds, so reports land inside it.
      sync.setRateCaps({ opsPerSecond: 400, bytesPerSecond: null });
      const burstStart = Date.now();
      const firstBurstReport = reports.length;
      const burst = sourceClient.pipeline();
      for (let i = 0; i < 1500; i++) burst.set(`burst:${i}`, String(i));
      await burst.exec();
      await waitFor('the burst on the target', async () => (await targetClient.dbsize()) === 1501, 60_000);
      await waitFor('caught up again', () => latest()?.lagBytes === 0 && latest()?.lagMs === 0, 30_000);

      const during = reports.slice(firstBurstReport);
      const inFlight = during.filter((report) => report.lagBytes > 0);
      expect(inFlight.length).toBeGreaterThan(3);
      for (const report of inFlight) {
        expect(report.lagMs, `lag at ${report.reportedAt - burstStart} ms into the burst`).toBeGreaterThan(0);
        // No byte of the burst can be older than the burst (one round trip of slack for a sampled source offset).
        expect(report.lagMs).toBeLessThanOrEqual(report.reportedAt - burstStart + 120);
      }
    } finally {
      await sync.stop();
      await running;
      await reporter.finish();
    }
  }, 120_000);
});
