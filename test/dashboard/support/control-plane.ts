import { pino } from 'pino';
import { startCoordinator, type RunningCoordinator } from '@shardbridge/coordinator';
import { ShardWorker } from '@shardbridge/worker';
import type { RedisServer } from '@shardbridge/testkit';

/** A token-protected coordinator sampling its lag history every half second, and one worker, in this process. */
export interface DashboardControlPlane {
  url: string;
  close(): Promise<void>;
}

export async function startDashboardControlPlane(
  queue: RedisServer,
  apiToken: string,
): Promise<DashboardControlPlane> {
  const logger = pino({ level: process.env.SHARDBRIDGE_TEST_LOG ?? 'silent' });
  const coordinator: RunningCoordinator = await startCoordinator({
    queue: queue.url,
    port: 0,
    logger,
    apiToken,
    topologyCheckMs: 0,
    historyIntervalMs: 500,
  });
  const worker = new ShardWorker({
    connection: queue.url,
    concurrency: 4,
    workerId: `dashboard-${process.pid}`,
    logger,
    progressIntervalMs: 200,
  });
  await worker.start();
  return {
    url: coordinator.url,
    async close() {
      await worker.stop({ handOff: false }).catch(() => undefined);
      await coordinator.close().catch(() => undefined);
    },
  };
}
