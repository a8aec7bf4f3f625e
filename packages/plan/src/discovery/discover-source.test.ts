import {
  freePort,
  startCluster,
  startFaultProxy,
  startRedis,
  startTlsRedis,
  waitFor,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../plan-schema.js';
import { parseClusterShards, parseClusterSlots } from './cluster-topology.js';
import { discoverSourceShards } from './discover-source.js';
import { DiscoveryError } from './errors.js';

function standalone(server: RedisServer, extra: Partial<SourceSpec> = {}): SourceSpec {
  return {
    type: 'standalone',
    seeds: [`${server.host}:${server.port}`],
    tls: false,
    ...(server.password ? { password: server.password } : {}),
    ...extra,
  } as SourceSpec;
}

function clusterSource(cluster: RedisCluster, extra: Partial<SourceSpec> = {}): SourceSpec {
  return {
    type: 'cluster',
    seeds: cluster.nodes.map((node) => `${node.host}:${node.port}`),
    tls: false,
    ...(cluster.password ? { password: cluster.password } : {}),
    ...extra,
  } as SourceSpec;
}

/** The testkit's ioredis-shaped NAT map as a plan's `natMap`. */
function planNatMap(cluster: RedisCluster): Record<string, string> {
  return Object.fromEntries(
    Object.entries(cluster.natMap()).map(([announced, { host, port }]) => [announced, `${host}:${port}`]),
  );
}

async function discoveryError(promise: Promise<unknown>): Promise<DiscoveryError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DiscoveryError);
  return error as DiscoveryError;
}

describe('discoverSourceShards: standalone', () => {
  let master: RedisServer;
  let replica: RedisServer;
  beforeAll(async () => {
    master = await startRedis({ password: 'pw' });
    replica = await startRedis({
      password: 'pw',
      config: { replicaof: `${master.host} ${master.port}`, masterauth: 'pw' },
    });
  });
  afterAll(async () => {
    await replica?.stop();
    await master?.stop();
  });

  it('returns the one node with every slot, resolving an env: password', async () => {
    process.env.DISCOVERY_TEST_PASSWORD = 'pw';
    const shards = await discoverSourceShards(
      standalone(master, { password: 'env:DISCOVERY_TEST_PASSWORD' }),
    );
    const address = `127.0.0.1:${master.port}`;
    expect(shards).toEqual([
      {
        nodeId: null,
        slots: [[0, 16383]],
        announced: address,
        reachable: address,
        mappedBy: 'seed',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      },
    ]);
  });

  it('maps the seed through natMap', async () => {
    const source = standalone(master, {
      seeds: ['redis.internal.invalid:6379'],
      natMap: { 'REDIS.internal.invalid:6379': `127.0.0.1:${master.port}` },
    });
    const [shard] = await discoverSourceShards(source);
    expect(shard).toMatchObject({
      announced: 'redis.internal.invalid:6379',
      reachable: `127.0.0.1:${master.port}`,
      mappedBy: 'natMap',
    });
  });

  it('refuses a replica as seed and names its master', async () => {
    const error = await discoveryError(discoverSourceShards(standalone(replica)));
    expect(error.code).toBe('DISCOVERY_SEED_IS_REPLICA');
    expect(error.message).toContain(`is a replica of 127.0.0.1:${master.port}`);
    expect(error.message).toContain(`set source.seeds to ["127.0.0.1:${master.port}"]`);
  });

  it('says DISCOVERY_AUTH for a wrong or missing password, without echoing it', async () => {
    const wrong = await discoveryError(
      discoverSourceShards(standalone(master, { password: 'not-the-password' })),
    );
    expect(wrong.code).toBe('DISCOVERY_AUTH');
    expect(wrong.message).toContain(`127.0.0.1:${master.port}`);
    expect(wrong.message).not.toContain('not-the-password');
    const missing = await discoveryError(
      discoverSourceShards({ type: 'standalone', seeds: [`127.0.0.1:${master.port}`], tls: false }),
    );
    expect(missing.code).toBe('DISCOVERY_AUTH');
    expect(missing.message).toMatch(/NOAUTH/);
  });

  it('closes every connection it opens, on success and on failure', async () => {
    const clients = async () => Number((await master.info('clients')).connected_clients);
    const before = await clients();
    for (let i = 0; i < 5; i++) {
      await discoverSourceShards(standalone(master));
      await discoverSourceShards(standalone(master, { password: 'wrong' })).catch(() => undefined);
    }
    // The server notices closed sockets asynchronously; a leak would keep the count up for good.
    await waitFor('discovery connections to close', async () => (await clients()) <= before);
  });

  it('says DISCOVERY_NO_SEED for a closed port', async () => {
    const port = await freePort();
    const error = await discoveryError(
      discoverSourceShards({ type: 'standalone', seeds: [`127.0.0.1:${port}`], tls: false }),
    );
    expect(error.code).toBe('DISCOVERY_NO_SEED');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('says DISCOVERY_WRONG_TYPE for a standalone server given as a cluster', async () => {
    const error = await discoveryError(discoverSourceShards({ ...standalone(master), type: 'cluster' }));
    expect(error.code).toBe('DISCOVERY_WRONG_TYPE');
    expect(error.message).toContain('"standalone"');
  });

  it('bounds a seed that accepts but never answers by connectTimeoutMs', async () => {
    const proxy = await startFaultProxy({ host: master.host, port: master.port });
    try {
      proxy.blackhole(true);
      const error = await discoveryError(
        discoverSourceShards(
          { type: 'standalone', seeds: [`${proxy.host}:${proxy.port}`], password: 'pw', tls: false },
          { connectTimeoutMs: 300 },
        ),
      );
      expect(error.code).toBe('DISCOVERY_NO_SEED');
      expect(error.message).toMatch(/timed out/i);
    } finally {
      await proxy.close();
    }
  });
});

describe('discoverSourceShards: TLS', () => {
  let tls: Awaited<ReturnType<typeof startTlsRedis>>;
  beforeAll(async () => {
    tls = await startTlsRedis({ password: 'tls-pw' });
  });
  afterAll(() => tls?.stop());

  // The certificate names localhost and 127.0.0.1 only: the announced name must be what is verified.
  const source = (): SourceSpec => ({
    type: 'standalone',
    seeds: ['localhost:6379'],
    natMap: { 'localhost:6379': `127.0.0.1:${tls.tlsPort}` },
    password: 'tls-pw',
    tls: true,
  });

  it('verifies the certificate against the announced name behind a natMap entry', async () => {
    const [shard] = await discoverSourceShards(source(), { tlsOptions: { ca: tls.ca } });
    expect(shard).toMatchObject({ reachable: `127.0.0.1:${tls.tlsPort}`, mappedBy: 'natMap' });
  });

  it('reports an untrusted certificate as DISCOVERY_TLS with the reason and source.tls.ca as the fix', async () => {
    const error = await discoveryError(discoverSourceShards(source()));
    expect(error.code).toBe('DISCOVERY_TLS');
    expect(error.message).toMatch(/certificate/i);
    expect(error.message).toContain('set source.tls.ca');
  });
});

describe('discoverSourceShards: a master that failed without a replica', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, nodeTimeoutMs: 500 });
  });
  afterAll(() => cluster?.stop());

  it('says the cluster marks it failed instead of suggesting a natMap entry', async () => {
    const [victim, ...survivors] = cluster.nodes;
    await victim.kill();
    // FAIL (not PFAIL, `fail?`) needs a majority of masters to agree, so it is seen everywhere soon after.
    const seesFailed = async (node: RedisServer) => {
      const nodes = String(await node.client().call('CLUSTER', 'NODES'));
      const line = nodes.split('\n').find((entry) => entry.includes(`:${victim.port}@`));
      return line?.split(' ')[2].split(',').includes('fail') ?? false;
    };
    await waitFor('the survivors to mark the killed master failed', async () =>
      (await Promise.all(survivors.map(seesFailed))).every(Boolean),
    );
    const error = await discoveryError(discoverSourceShards(clusterSource(cluster)));
    expect(error.code).toBe('DISCOVERY_UNREACHABLE');
    expect(error.message).toContain(`source master 127.0.0.1:${victim.port} (slots 0-5460) is marked failed`);
    expect(error.message).not.toContain('natMap');
  });
});

describe('discoverSourceShards: cluster announcing loopback addresses', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(() => cluster?.stop());
  const killed = new Set<RedisServer>();

  it('finds one shard per master with its node id, covering every slot', async () => {
    const shards = await discoverSourceShards(clusterSource(cluster));
    const masters = await cluster.masters();
    expect(shards).toHaveLength(3);
    for (const [index, shard] of shards.entries()) {
      const node = masters[index];
      expect(shard).toEqual({
        nodeId: await cluster.nodeId(node),
        slots: [expect.any(Array)],
        announced: `127.0.0.1:${node.port}`,
        reachable: `127.0.0.1:${node.port}`,
        mappedBy: 'identity',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      });
    }
    expect(shards.flatMap((shard) => shard.slots)).toEqual([
      [0, 5460],
      [5461, 10921],
      [10922, 16383],
    ]);
  });

  it('skips seeds that do not answer and lists them all when none does', async () => {
    const closed = [await freePort(), await freePort()].map((port) => `127.0.0.1:${port}`);
    const live = `127.0.0.1:${cluster.nodes[4].port}`;
    expect(await discoverSourceShards(clusterSource(cluster, { seeds: [...closed, live] }))).toHaveLength(3);

    const error = await discoveryError(discoverSourceShards(clusterSource(cluster, { seeds: closed })));
    expect(error.code).toBe('DISCOVERY_NO_SEED');
    for (const seed of closed) expect(error.message).toContain(`${seed}: connect ECONNREFUSED`);
    expect(error.details?.seeds).toHaveLength(2);
  });

  it('reads the same masters from CLUSTER SLOTS as from CLUSTER SHARDS (the pre-7 fallback)', async () => {
    const client = cluster.nodes[1].client();
    const fromShards = parseClusterShards(await client.call('CLUSTER', 'SHARDS'));
    const fromSlots = parseClusterSlots(await client.call('CLUSTER', 'SLOTS'));
    // SLOTS has no health and no replicas; the rest must agree.
    expect(fromSlots).toEqual(
      fromShards.map(({ health: _health, replicas: _replicas, ...master }) => master),
    );
  });

  it('says DISCOVERY_WRONG_TYPE for a cluster node given as standalone', async () => {
    const source = {
      ...clusterSource(cluster),
      type: 'standalone',
      seeds: [clusterSource(cluster).seeds[0]],
    };
    const error = await discoveryError(discoverSourceShards(source as SourceSpec));
    expect(error.code).toBe('DISCOVERY_WRONG_TYPE');
  });

  it('after a failover, finds the promoted replica (skipping the dead seed)', async () => {
    const [victim] = await cluster.masters();
    await victim.kill();
    killed.add(victim);
    const promoted = await cluster.waitForFailover(victim);
    const shards = await discoverSourceShards(clusterSource(cluster));
    expect(shards[0]).toMatchObject({
      nodeId: await cluster.nodeId(promoted),
      slots: [[0, 5460]],
      reachable: `127.0.0.1:${promoted.port}`,
    });
  });

  // Last: it leaves slots unassigned.
  it('names unassigned slots', async () => {
    for (const node of cluster.nodes.filter((node) => !killed.has(node)))
      await node.client().call('CLUSTER', 'DELSLOTSRANGE', '100', '199', '7000', '7000');
    const error = await discoveryError(discoverSourceShards(clusterSource(cluster)));
    expect(error.code).toBe('DISCOVERY_SLOTS_UNCOVERED');
    expect(error.message).toContain('no master for slots 100-199,7000');
    expect(error.details?.missing).toEqual([
      [100, 199],
      [7000, 7000],
    ]);
  });
});

describe('discoverSourceShards: cluster announcing unresolvable hostnames (NAT)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({
      masters: 3,
      replicasPerMaster: 1,
      announceHostnames: true,
      password: 'pw',
    });
  });
  afterAll(() => cluster?.stop());

  it('without a natMap, names each unreachable master, its slots and the natMap line to add', async () => {
    const error = await discoveryError(discoverSourceShards(clusterSource(cluster)));
    expect(error.code).toBe('DISCOVERY_UNREACHABLE');
    const masters = await cluster.masters();
    for (const master of masters) {
      expect(error.message).toContain(`source master ${cluster.announced(master)} (slots `);
    }
    const first = cluster.announced(masters[0]);
    expect(error.message).toContain(`(slots 0-5460) does not answer at its announced address`);
    expect(error.message).toContain(`add "natMap": {"${first}": "<reachable-host>:<port>", `);
    expect(error.message).toContain(`to the plan's source`);
    expect(Object.keys(error.details?.natMapSuggestion as object)).toEqual(
      masters.map((m) => cluster.announced(m)),
    );
  });

  it('with the natMap, dials every master at its loopback address', async () => {
    const shards = await discoverSourceShards(clusterSource(cluster, { natMap: planNatMap(cluster) }));
    const masters = await cluster.masters();
    expect(shards.map((shard) => [shard.announced, shard.reachable, shard.mappedBy])).toEqual(
      masters.map((master) => [cluster.announced(master), `127.0.0.1:${master.port}`, 'natMap']),
    );
    expect(shards.map((shard) => shard.nodeId)).toEqual(
      await Promise.all(masters.map((m) => cluster.nodeId(m))),
    );
  });

  it('accepts a seed given as an announced name, mapped by natMap', async () => {
    const seed = cluster.announced(cluster.nodes[3]);
    expect(seed).toMatch(/\.internal\.invalid:/);
    const shards = await discoverSourceShards(
      clusterSource(cluster, { seeds: [seed], natMap: planNatMap(cluster) }),
    );
    expect(shards).toHaveLength(3);
  });

  it('names both addresses when a natMap entry leads nowhere', async () => {
    const [master] = await cluster.masters();
    const announced = cluster.announced(master);
    const dead = `127.0.0.1:${await freePort()}`;
    const natMap = { ...planNatMap(cluster), [announced]: dead };
    const error = await discoveryError(discoverSourceShards(clusterSource(cluster, { natMap })));
    expect(error.code).toBe('DISCOVERY_UNREACHABLE');
    expect(error.message).toContain(
      `source master ${announced} (slots 0-5460) is mapped by natMap to ${dead}`,
    );
    expect(error.message).toContain(`correct the natMap entry for "${announced}"`);
    expect(error.message).not.toContain('add "natMap"');
  });

  it('notices a natMap entry that leads to a different node', async () => {
    const [first, second] = await cluster.masters();
    const natMap = { ...planNatMap(cluster), [cluster.announced(first)]: `127.0.0.1:${second.port}` };
    const error = await discoveryError(discoverSourceShards(clusterSource(cluster, { natMap })));
    expect(error.code).toBe('DISCOVERY_WRONG_NODE');
    expect(error.message).toContain(await cluster.nodeId(second));
  });

  it('says DISCOVERY_AUTH for a wrong password', async () => {
    const error = await discoveryError(
      discoverSourceShards(clusterSource(cluster, { password: 'nope', natMap: planNatMap(cluster) })),
    );
    expect(error.code).toBe('DISCOVERY_AUTH');
    expect(error.message).toContain('WRONGPASS');
  });
});
