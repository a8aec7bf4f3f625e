import net from 'node:net';
import {
  proxyCluster,
  startCluster,
  startRedis,
  type ClusterProxies,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../plan-schema.js';
import { discoverSourceShards } from './discover-source.js';
import { DiscoveryError } from './errors.js';

/** A plain TCP forwarder on a fixed loopback port (the testkit proxy only listens on a free port). */
async function forwardAt(port: number, target: { host: string; port: number }): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function discoveryError(promise: Promise<unknown>): Promise<DiscoveryError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DiscoveryError);
  return error as DiscoveryError;
}

describe('discoverSourceShards: natRules, natDiscover and manual shards against a NAT-announcing cluster', () => {
  let cluster: RedisCluster;
  let proxies: ClusterProxies;
  let masters: RedisServer[];
  const forwarders: net.Server[] = [];
  let offset = 0;

  function source(extra: Partial<SourceSpec>): SourceSpec {
    return {
      type: 'cluster',
      seeds: [cluster.announced(cluster.nodes[0])],
      tls: false,
      readFrom: 'master',
      password: 'pw',
      ...extra,
    } as SourceSpec;
  }

  beforeAll(async () => {
    cluster = await startCluster({
      masters: 3,
      replicasPerMaster: 1,
      announceHostnames: true,
      password: 'pw',
    });
    proxies = await proxyCluster(cluster);
    masters = await cluster.masters();
    // Port-offset NAT: every node also answers at its port + offset; pick an offset whose ports are all free.
    for (let attempt = 0; attempt < 20 && forwarders.length === 0; attempt++) {
      const candidate = 1000 + Math.floor(Math.random() * 20000);
      const started: net.Server[] = [];
      try {
        for (const node of cluster.nodes) {
          if (node.port + candidate > 65535) throw new Error('out of range');
          started.push(await forwardAt(node.port + candidate, node));
        }
        forwarders.push(...started);
        offset = candidate;
      } catch {
        await Promise.all(started.map(closeServer));
      }
    }
    expect(forwarders).toHaveLength(cluster.nodes.length);
  });
  afterAll(async () => {
    await Promise.all(forwarders.map(closeServer));
    await proxies?.close();
    await cluster?.stop();
  });

  it('maps every announced name (seed included) through a port-offset natRule', async () => {
    const shards = await discoverSourceShards(
      source({ natRules: [{ match: '*.internal.invalid', host: '127.0.0.1', port: { offset } }] }),
    );
    expect(shards.map((shard) => shard.reachable)).toEqual(
      masters.map((m) => `127.0.0.1:${m.port + offset}`),
    );
    expect(shards.map((shard) => shard.announced)).toEqual(masters.map((m) => cluster.announced(m)));
    expect(new Set(shards.map((shard) => shard.mappedBy))).toEqual(new Set(['natRule']));
  });

  it('maps through the fault proxies with a port-map natRule, natMap entries taking precedence', async () => {
    const portMap = Object.fromEntries(
      cluster.nodes.map((node) => [String(node.port), proxies.proxyOf(node).port]),
    );
    const [first] = masters;
    const shards = await discoverSourceShards(
      source({
        natMap: { [cluster.announced(first)]: `127.0.0.1:${first.port}` },
        natRules: [
          { match: '10.0.0.0/8', host: 'nowhere.invalid', port: 'same' },
          { match: '*.internal.invalid', host: '127.0.0.1', port: { map: portMap } },
        ],
      }),
    );
    expect(shards.map((shard) => [shard.mappedBy, shard.reachable])).toEqual([
      ['natMap', `127.0.0.1:${first.port}`],
      ...masters.slice(1).map((m) => ['natRule', `127.0.0.1:${proxies.proxyOf(m).port}`]),
    ]);
  });

  it('a natRule that leads nowhere is named with the rule to correct', async () => {
    const error = await discoveryError(
      discoverSourceShards(
        source({
          seeds: [`127.0.0.1:${cluster.nodes[0].port}`],
          natRules: [{ match: '*.internal.invalid', host: '127.0.0.1', port: { offset: 1 } }],
        }),
        { connectTimeoutMs: 2000 },
      ),
    );
    expect(error.code).toBe('DISCOVERY_UNREACHABLE');
    expect(error.message).toContain(`is mapped by natRules[0] to 127.0.0.1:${masters[0].port + 1}`);
    expect(error.message).toContain('correct natRules[0]');
  });

  it('finds every node through natDiscover (seed unreachable as written, no mapping typed)', async () => {
    const natDiscover = cluster.nodes.map((node) => `127.0.0.1:${proxies.proxyOf(node).port}`);
    const shards = await discoverSourceShards(source({ natDiscover }));
    expect(shards.map((shard) => [shard.nodeId, shard.mappedBy, shard.reachable])).toEqual(
      await Promise.all(
        masters.map(async (m) => [
          await cluster.nodeId(m),
          'natDiscover',
          `127.0.0.1:${proxies.proxyOf(m).port}`,
        ]),
      ),
    );
  });

  it('natDiscover without one master: names it, the natMap line to add and the natDiscover failures', async () => {
    const missing = masters[2];
    const natDiscover = cluster.nodes
      .filter((node) => node !== missing)
      .map((node) => `127.0.0.1:${proxies.proxyOf(node).port}`);
    const error = await discoveryError(
      discoverSourceShards(source({ natDiscover: [...natDiscover, '127.0.0.1:1'] }), {
        connectTimeoutMs: 2000,
      }),
    );
    expect(error.code).toBe('DISCOVERY_UNREACHABLE');
    expect(error.message).toContain(`source master ${cluster.announced(missing)} (slots 10922-16383)`);
    expect(error.message).toContain(`"natMap": {"${cluster.announced(missing)}": "<reachable-host>:<port>"}`);
    expect(error.message).toContain('natDiscover addresses that did not answer: 127.0.0.1:1');
    expect(error.details?.natMapSuggestion).toEqual({
      [cluster.announced(missing)]: '<reachable-host>:<port>',
    });
  });

  it('readFrom replica: picks each shard a mapped replica with its link up', async () => {
    const rule = { match: '*.internal.invalid', host: '127.0.0.1', port: 'same' as const };
    const shards = await discoverSourceShards(source({ natRules: [rule], readFrom: 'replica' }));
    for (const [index, shard] of shards.entries()) {
      const [replica] = await cluster.replicas(masters[index]);
      expect(shard.reachable).toBe(`127.0.0.1:${masters[index].port}`);
      expect(shard.replica).toEqual({
        nodeId: await cluster.nodeId(replica),
        announced: cluster.announced(replica),
        reachable: `127.0.0.1:${replica.port}`,
        mappedBy: 'natRule',
      });
    }
  });

  it('readFrom replica without a way to the replicas fails; prefer-replica falls back to masters', async () => {
    const natMap = Object.fromEntries(masters.map((m) => [cluster.announced(m), `127.0.0.1:${m.port}`]));
    const error = await discoveryError(
      discoverSourceShards(source({ natMap, readFrom: 'replica' }), { connectTimeoutMs: 2000 }),
    );
    expect(error.code).toBe('DISCOVERY_NO_REPLICA');
    expect(error.message).toContain('set source.readFrom to "prefer-replica"');
    const shards = await discoverSourceShards(source({ natMap, readFrom: 'prefer-replica' }), {
      connectTimeoutMs: 2000,
    });
    expect(shards.map((shard) => shard.replica)).toEqual([undefined, undefined, undefined]);
  });

  it('manual shards: the given masters, with their slots and ids, unmapped', async () => {
    const shards = await discoverSourceShards(
      source({ shards: masters.map((m) => ({ reachable: `127.0.0.1:${proxies.proxyOf(m).port}` })) }),
    );
    expect(shards.map((shard) => [shard.mappedBy, shard.slots, shard.announced])).toEqual([
      ['manual', [[0, 5460]], cluster.announced(masters[0])],
      ['manual', [[5461, 10921]], cluster.announced(masters[1])],
      ['manual', [[10922, 16383]], cluster.announced(masters[2])],
    ]);
  });

  it('manual shards: refuses a replica, missing slots, a slot mismatch and a duplicate', async () => {
    const address = (node: RedisServer) => ({ reachable: `127.0.0.1:${node.port}` });
    const [replica] = await cluster.replicas(masters[0]);
    const cases: Array<[SourceSpec['shards'], string, string]> = [
      [
        [address(replica), ...masters.slice(1).map(address)],
        'DISCOVERY_SHARDS_INVALID',
        'is a slave, not a master',
      ],
      [
        masters.slice(0, 2).map(address),
        'DISCOVERY_SLOTS_UNCOVERED',
        'leave slots 10922-16383 without a shard',
      ],
      [
        [{ ...address(masters[0]), slots: [[0, 100]] }, ...masters.slice(1).map(address)],
        'DISCOVERY_SHARDS_INVALID',
        'serves slots 0-5460, but the plan says 0-100',
      ],
      [[...masters.map(address), address(masters[0])], 'DISCOVERY_SHARDS_INVALID', 'are the same node'],
    ];
    for (const [shards, code, text] of cases) {
      const error = await discoveryError(discoverSourceShards(source({ shards })));
      expect(error.code, text).toBe(code);
      expect(error.message).toContain(text);
    }
  });
});

describe('discoverSourceShards: manual shards of non-cluster masters', () => {
  let a: RedisServer;
  let b: RedisServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const spec = (shards: SourceSpec['shards']) =>
    ({
      type: 'cluster',
      seeds: [`127.0.0.1:${a.port}`],
      tls: false,
      readFrom: 'master',
      shards,
    }) as SourceSpec;

  it('takes the plan slots, and insists on them for more than one shard', async () => {
    const shards = await discoverSourceShards(
      spec([
        { reachable: `127.0.0.1:${a.port}`, slots: [[0, 8191]] },
        { reachable: `127.0.0.1:${b.port}`, slots: [[8192, 16383]] },
      ]),
    );
    expect(shards.map((shard) => [shard.nodeId, shard.slots])).toEqual([
      [null, [[0, 8191]]],
      [null, [[8192, 16383]]],
    ]);
    const error = await discoveryError(
      discoverSourceShards(
        spec([{ reachable: `127.0.0.1:${a.port}` }, { reachable: `127.0.0.1:${b.port}` }]),
      ),
    );
    expect(error.message).toContain('give its "slots" in the plan');
    const overlap = await discoveryError(
      discoverSourceShards(
        spec([
          { reachable: `127.0.0.1:${a.port}`, slots: [[0, 9000]] },
          { reachable: `127.0.0.1:${b.port}`, slots: [[8192, 16383]] },
        ]),
      ),
    );
    expect(overlap.message).toContain('both claim slot 8192');
  });
});
