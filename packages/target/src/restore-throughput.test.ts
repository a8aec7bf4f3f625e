import { startCluster, startRedis } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { TargetWriter } from './target-writer.js';
import type { HostPort, RestoreRecord } from './types.js';

/**
 * Throughput of a full sync's RESTOREs. Prints keys/s; asserts only correctness (no timing assertions).
 * Set SHARDBRIDGE_BENCH_KEYS to change the key count.
 */
const KEYS = Number(process.env.SHARDBRIDGE_BENCH_KEYS ?? 200_000);

async function restoreAll(
  type: 'standalone' | 'cluster',
  seeds: HostPort[],
  payload: Buffer,
): Promise<number> {
  const writer = await TargetWriter.connect({ type, seeds });
  const started = performance.now();
  for (let i = 0; i < KEYS; i++) {
    const record: RestoreRecord = { db: 0, key: Buffer.from(`bench:${i}`), expireAt: null, payload };
    if (!writer.restoreKey(record)) await new Promise<void>((r) => writer.once('drain', r));
  }
  writer.barrier(KEYS);
  await writer.flush();
  const seconds = (performance.now() - started) / 1000;
  expect(writer.acknowledgedOffset).toBe(KEYS);
  await writer.close();
  return KEYS / seconds;
}

describe('RESTORE throughput', () => {
  it(`restores ${KEYS} small keys into a standalone redis-server`, async () => {
    const target = await startRedis({ config: { save: '', appendonly: 'no' } });
    try {
      const client = target.client();
      await client.set('p', 'small-value-0123456789');
      const payload = (await client.dumpBuffer('p'))!;
      const rate = await restoreAll('standalone', [{ host: target.host, port: target.port }], payload);
      expect(await client.dbsize()).toBe(KEYS + 1);
      console.log(`standalone: ${Math.round(rate)} keys/s (${KEYS} RESTOREs)`);
    } finally {
      await target.stop();
    }
  });

  it(`restores ${KEYS} small keys into a 3-master cluster`, async () => {
    const cluster = await startCluster({ masters: 3, config: { save: '', appendonly: 'no' } });
    try {
      const client = cluster.client();
      await client.set('p', 'small-value-0123456789');
      const payload = (await client.dumpBuffer('p'))!;
      const seeds = [{ host: cluster.nodes[0].host, port: cluster.nodes[0].port }];
      const rate = await restoreAll('cluster', seeds, payload);
      console.log(`cluster: ${Math.round(rate)} keys/s (${KEYS} RESTOREs)`);
    } finally {
      await cluster.stop();
    }
  });
});
