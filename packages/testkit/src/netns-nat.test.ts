import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { keySlot } from '@shardbridge/target';
import { natNamespaceUnsupportedReason, startNatNamespaceCluster } from './netns-nat.js';
import { startNatNetwork } from './netns-network.js';
import { pingOnce } from './ping.js';

const unsupported = await natNamespaceUnsupportedReason();
if (unsupported !== null) console.warn(`testkit netns fixtures skipped: ${unsupported}`);

/** Every namespace, link and route of this host, to check that a fixture left nothing behind. */
function hostState(): string {
  const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  return [ip('netns', 'list'), ip('-o', 'link', 'show'), ip('-4', 'route', 'show', 'table', 'all')].join(
    '\n',
  );
}

describe.skipIf(unsupported !== null)(
  `startNatNetwork / startNatNamespaceCluster${unsupported === null ? '' : ` (skipped: ${unsupported})`}`,
  () => {
    it('concurrent networks get distinct subnets; stop() removes namespaces, host veth and route, twice', async () => {
      const networks = await Promise.all([startNatNetwork(), startNatNetwork()]);
      try {
        expect(networks[0].internalSubnet).not.toBe(networks[1].internalSubnet);
        expect(networks[0].routerHost).not.toBe(networks[1].routerHost);
        const state = hostState();
        for (const network of networks) {
          expect(state).toContain(network.router);
          expect(state).toContain(`unreachable ${network.internalSubnet}`);
        }
      } finally {
        await Promise.all(networks.map((network) => network.stop()));
      }
      await networks[0].stop();
      const state = hostState();
      for (const network of networks) {
        expect(state).not.toContain(network.router);
        expect(state).not.toContain(network.inside);
        expect(state).not.toContain(network.internalSubnet);
        expect(state).not.toContain(network.hostAddress);
      }
    });

    it('a cluster announces internal addresses and answers only at the DNAT ports', async () => {
      const cluster = await startNatNamespaceCluster({ masters: 2 });
      try {
        const [first, second] = cluster.nodes;
        expect(first.internal.host).toBe(cluster.network.internalHost);
        expect(first.reachable).toEqual({
          host: cluster.network.routerHost,
          port: first.internal.port + cluster.portOffset,
        });
        await expect(pingOnce(first.internal.host, first.internal.port, {}, 2000)).rejects.toThrow();
        const client = cluster.client(first);
        const key = [...Array(100).keys()].map((i) => `k${i}`).find((k) => cluster.nodeForKey(k) === second)!;
        // A redirect names the owner's internal address, which this host cannot dial.
        await expect(client.set(key, 'x')).rejects.toThrow(
          `MOVED ${keySlot(key)} ${second.internal.host}:${second.internal.port}`,
        );
        expect(cluster.natMap()).toEqual({
          [`${first.internal.host}:${first.internal.port}`]: `${first.reachable.host}:${first.reachable.port}`,
          [`${second.internal.host}:${second.internal.port}`]: `${second.reachable.host}:${second.reachable.port}`,
        });
      } finally {
        await cluster.stop();
        await cluster.stop();
      }
      expect(hostState()).not.toContain(cluster.network.router);
    }, 60_000);
  },
);
