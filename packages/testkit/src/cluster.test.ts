import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcedHostname, startCluster, type RedisCluster } from './cluster.js';
import { proxyCluster } from './cluster-proxies.js';
import { keySlot } from '@shardbridge/target';

describe('startCluster: 3 masters', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
  });
  afterAll(() => cluster?.stop());

  it('covers every slot with cluster_state:ok on every node', async () => {
    for (const node of cluster.nodes) {
      const info = await node.client().cluster('INFO');
      expect(info).toContain('cluster_state:ok');
      expect(info).toContain('cluster_slots_assigned:16384');
      expect(info).toContain('cluster_known_nodes:3');
    }
    expect(await cluster.masters()).toEqual(cluster.nodes);
  });

  it('routes keys through the ioredis Cluster client and nodeForKey agrees', async () => {
    const client = cluster.client();
    for (let i = 0; i < 50; i++) await client.set(`key:${i}`, String(i));
    for (let i = 0; i < 50; i++) {
      const owner = await cluster.nodeForKey(`key:${i}`);
      expect(await owner.client().get(`key:${i}`)).toBe(String(i));
    }
  });

  it('announces loopback addresses by default', async () => {
    const node = cluster.nodes[0];
    expect(cluster.announced(node)).toBe(`127.0.0.1:${node.port}`);
  });
});

describe('startCluster: NAT-announcing hostnames with replicas', () => {
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

  it('hands out unresolvable hostnames in CLUSTER SLOTS', async () => {
    const slots = (await cluster.nodes[0].client().cluster('SLOTS')) as unknown as Array<
      [number, number, ...Array<[string, number, string]>]
    >;
    expect(slots).toHaveLength(3);
    const endpoints = slots.flatMap(([, , ...nodes]) => nodes.map(([host, port]) => `${host}:${port}`));
    expect(endpoints).toHaveLength(6);
    expect(endpoints.sort()).toEqual(cluster.nodes.map((node) => cluster.announced(node)).sort());
    for (const endpoint of endpoints) expect(endpoint).toMatch(/^node-\d\.internal\.invalid:\d+$/);
  });

  it('says MOVED node-<i>.internal.invalid:<port>', async () => {
    const owner = await cluster.nodeForKey('moved-key');
    const index = cluster.nodes.indexOf(owner);
    const other = (await cluster.masters()).find((node) => node !== owner);
    const plain = new Redis({
      host: other!.host,
      port: other!.port,
      password: 'pw',
      maxRetriesPerRequest: 0,
    });
    try {
      await expect(plain.get('moved-key')).rejects.toThrow(
        `MOVED ${keySlot('moved-key')} ${announcedHostname(index)}:${owner.port}`,
      );
    } finally {
      plain.disconnect();
    }
  });

  it('works through the NAT map and replicates', async () => {
    const client = cluster.client();
    await client.set('{tag}a', '1');
    const master = await cluster.nodeForKey('{tag}a');
    const [replica] = await cluster.replicas(master);
    const replicaClient = replica.client();
    await replicaClient.wait(1, 5000).catch(() => undefined);
    await master.client().wait(1, 5000);
    await replicaClient.readonly();
    expect(await replicaClient.get('{tag}a')).toBe('1');
  });

  it('fails over to a replica', async () => {
    const [oldMaster] = await cluster.masters();
    const promoted = await cluster.failover(oldMaster);
    expect((await promoted.info('replication')).role).toBe('master');
    expect(await cluster.masters()).toContain(promoted);
    expect(await cluster.masters()).not.toContain(oldMaster);
    expect(await cluster.replicas(promoted)).toEqual([oldMaster]);
  });

  it('routes a NAT-mapped client through per-node fault proxies', async () => {
    const proxies = await proxyCluster(cluster);
    try {
      const client = cluster.client({ natMap: proxies.natMap() });
      for (let i = 0; i < 20; i++) await client.set(`via-proxy:${i}`, String(i));
      const total = [...proxies.proxies.values()].reduce((sum, proxy) => sum + proxy.stats.bytesToTarget, 0);
      expect(total).toBeGreaterThan(0);
      const owner = await cluster.nodeForKey('via-proxy:0');
      expect(proxies.proxyOf(owner).connections).toBeGreaterThan(0);
      client.disconnect();
    } finally {
      await proxies.close();
    }
  });

  it('promotes a replica when a master is killed, and the old master rejoins as replica', async () => {
    const [victim] = await cluster.masters();
    const [replica] = await cluster.replicas(victim);
    await victim.kill();
    expect(await cluster.waitForFailover(victim)).toBe(replica);
    expect(await cluster.masters()).toContain(replica);
    await victim.restart();
    await cluster.waitForAgreement();
    expect(await cluster.replicas(replica)).toEqual([victim]);
  });
});
