import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultProxy } from '@shardbridge/testkit';
import type { ShardView } from '../../control-plane/support/api.js';
import { loadClusterData } from '../../control-plane/support/cluster-data.js';
import { FaultBed, resyncsSince } from './fault-bed.js';
import {
  ADDED_LATENCY_MS,
  BLACKHOLE_MS,
  CUT_EVERY_MS,
  CUTS,
  LATENCY_HOLD_MS,
  timingsLine,
} from './fault-timings.js';
import { describeComparison } from './token-check.js';
import { startTokenWrites } from './token-writes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface NetworkFault {
  name: string;
  /** runs the fault on `proxies` and resolves when it is over */
  inject(proxies: FaultProxy[]): Promise<void>;
  /** the fault ends every link of the side, so each shard must reconnect at least once */
  reconnects: boolean;
}

const FAULTS: NetworkFault[] = [
  {
    name: `${BLACKHOLE_MS / 1000} s blackhole`,
    reconnects: true,
    async inject(proxies) {
      for (const proxy of proxies) proxy.blackhole(true);
      await sleep(BLACKHOLE_MS);
      // The bytes swallowed are gone, so the links that lived through it are desynchronised: the network comes
      // back with their state lost, as after a NAT gateway forgot its flows.
      for (const proxy of proxies) {
        proxy.blackhole(false);
        proxy.cutAll();
      }
    },
  },
  {
    name: `${ADDED_LATENCY_MS / 1000} s added latency`,
    reconnects: false,
    async inject(proxies) {
      for (const proxy of proxies) proxy.setDelay(ADDED_LATENCY_MS);
      await sleep(LATENCY_HOLD_MS);
      for (const proxy of proxies) proxy.setDelay(0);
    },
  },
  {
    name: `connection cuts every ${CUT_EVERY_MS / 1000} s`,
    reconnects: true,
    async inject(proxies) {
      for (let i = 0; i < CUTS; i++) {
        await sleep(CUT_EVERY_MS);
        for (const proxy of proxies) proxy.cutAll();
      }
    },
  },
];

/**
 * One suite per side: each network fault in turn on every link of that side (`source`: the three masters'
 * proxies; `target`: the target's), under a token write load, then source and target compared token by token.
 */
export function networkFaultSuite(side: 'source' | 'target'): void {
  describe(`faults: network faults on the ${side} links`, () => {
    let bed: FaultBed;
    const streaming = (shards: ShardView[]) => shards.every((shard) => shard.phase === 'incremental');

    beforeAll(async () => {
      bed = await FaultBed.start({ workers: 1 });
      await loadClusterData(bed.router, 30);
      await bed.submit(`faults-network-${side}`);
      await bed.waitForShards('every shard streaming', streaming);
      console.log(timingsLine());
    });

    afterAll(() => bed?.stop());

    for (const fault of FAULTS) {
      const resumed = fault.reconnects ? ', every shard resumed with +CONTINUE' : ', no resync';
      it(`${fault.name} on the ${side}: nothing lost${resumed}`, async () => {
        const proxies = side === 'source' ? bed.sourceProxies : [bed.targetProxy];
        const load = `${side}-${fault.name.replace(/[^a-z0-9]+/g, '-')}`;
        const before = await bed.resyncCounters();
        const links = (shard: ShardView) => shard.partialSyncs + shard.fullSyncs;
        const linksBefore = new Map(
          (await bed.waitForShards('every shard streaming', streaming)).map((s) => [s.id, links(s)]),
        );
        const writes = startTokenWrites(bed.router, { name: load });
        let written;
        try {
          await sleep(500);
          await fault.inject(proxies);
          await bed.waitForShards(
            `every shard streaming after the ${fault.name}`,
            (shards) =>
              streaming(shards) &&
              (!fault.reconnects || shards.every((shard) => links(shard) > linksBefore.get(shard.id)!)),
          );
          await sleep(500);
        } finally {
          written = await writes.stop();
        }
        const comparison = await bed.converge(load);
        const resyncs = resyncsSince(before, await bed.resyncCounters());
        console.log(
          `${fault.name} on the ${side}: ${written.acknowledged} write transactions, ` +
            `${resyncs.partial} partial / ${resyncs.full} full resyncs; ${describeComparison(comparison)}`,
        );
        expect(comparison.lost, describeComparison(comparison)).toBe(0);
        expect(comparison.others, describeComparison(comparison)).toEqual([]);
        expect(resyncs.full).toBe(0);
        if (fault.reconnects) expect(resyncs.partial).toBeGreaterThanOrEqual(3);
        else expect(resyncs.partial).toBe(0);
        // A source link's loss lets the target confirm everything sent first; a target link's loss can take
        // replies of applied batches with it, but the applied marker (exactlyOnce) says what the target has.
        expect(comparison.duplicated, describeComparison(comparison)).toBe(0);
      }, 120_000);
    }
  });
}
