import { keySlot, SLOT_COUNT, startCluster, startFaultProxy, type RedisCluster } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetError } from './errors.js';
import { TargetWriter } from './target-writer.js';

const cmd = (...parts: Array<string | Buffer>): Buffer[] =>
  parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));

/** One key name per slot. */
function keyPerSlot(): string[] {
  const keys: string[] = new Array(SLOT_COUNT);
  let missing = SLOT_COUNT;
  for (let i = 0; missing > 0; i++) {
    const key = `slot-key:${i}`;
    const slot = keySlot(key);
    if (keys[slot] === undefined) {
      keys[slot] = key;
      missing--;
    }
  }
  return keys;
}

function seedsOf(cluster: RedisCluster) {
  return [{ host: cluster.nodes[0].host, port: cluster.nodes[0].port }];
}

describe('TargetWriter (cluster)', () => {
  let cluster: RedisCluster;
  let payload: Buffer;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    const client = cluster.client();
    await client.set('payload-source', 'v');
    payload = (await client.dumpBuffer('payload-source'))!;
    await client.del('payload-source');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('restores a key into every slot, each on the master that serves it', async () => {
    const writer = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      maxInFlight: 2000,
    });
    const keys = keyPerSlot();
    const expireAt = Date.now() + 600_000;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const record = { db: 0, key: Buffer.from(keys[slot]), expireAt: slot % 2 ? expireAt : null, payload };
      if (!writer.restoreKey(record)) await new Promise<void>((r) => writer.once('drain', r));
    }
    writer.barrier(777);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(777);
    await writer.close();

    let total = 0;
    for (const master of await cluster.masters()) {
      const client = master.client();
      total += await client.dbsize();
    }
    expect(total).toBe(SLOT_COUNT);
    const client = cluster.client();
    expect(await client.get(keys[0])).toBe('v');
    expect(await client.get(keys[SLOT_COUNT - 1])).toBe('v');
    expect(await client.pexpiretime(keys[1])).toBe(expireAt);
  });

  it('routes replicated commands by slot, runs transactions command by command, and acks in order', async () => {
    const writer = await TargetWriter.connect({ type: 'cluster', seeds: seedsOf(cluster) });
    let offset = 0;
    writer.applyCommand(cmd('SELECT', '0'), (offset += 10));
    for (let i = 0; i < 3000; i++) writer.applyCommand(cmd('INCR', `counter:${i % 300}`), (offset += 10));
    writer.applyCommand(cmd('PING'), (offset += 10));
    writer.applyCommand(cmd('MULTI'), (offset += 10));
    writer.applyCommand(cmd('SET', '{a}x', '1'), (offset += 10));
    writer.applyCommand(cmd('SET', '{b}y', '2'), (offset += 10));
    writer.applyCommand(cmd('EXEC'), (offset += 10));
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(offset);

    const client = cluster.client();
    for (let i = 0; i < 300; i += 37) expect(await client.get(`counter:${i}`)).toBe('10');
    expect(await client.get('{a}x')).toBe('1');
    expect(await client.get('{b}y')).toBe('2');

    // keyless per-node commands reach every master
    writer.applyCommand(cmd('FLUSHALL'), (offset += 10));
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(offset);
    for (const master of await cluster.masters()) expect(await master.client().dbsize()).toBe(0);

    const errorPromise = new Promise<TargetError>((r) => writer.once('error', r));
    expect(() => writer.applyCommand(cmd('SELECT', '3'), offset + 10)).toThrow(/only has db 0.*db 3/);
    const error = await errorPromise;
    expect(error.code).toBe('TARGET_DB_UNSUPPORTED');
    expect(writer.acknowledgedOffset).toBe(offset);
    await writer.close();
  });

  it('splits DEL/UNLINK/MSET across slots per slot; with crossSlot "error", or for RENAME, TARGET_CROSSSLOT', async () => {
    const writer = await TargetWriter.connect({ type: 'cluster', seeds: seedsOf(cluster) });
    writer.applyCommand(cmd('MSET', 'cross:a', '1', 'cross:b', '2', 'cross:c', '3'), 10);
    writer.applyCommand(cmd('DEL', 'cross:a', 'cross:b'), 20);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(20);
    const reader = cluster.client();
    expect([await reader.get('cross:a'), await reader.get('cross:b'), await reader.get('cross:c')]).toEqual([
      null,
      null,
      '3',
    ]);
    writer.applyCommand(cmd('RENAME', 'cross:c', 'cross:d'), 30);
    const renameError = await new Promise<TargetError>((r) => writer.once('error', r));
    expect(renameError.code).toBe('TARGET_CROSSSLOT');
    expect(renameError.message).toContain('RENAME "cross:c"');
    await writer.close();

    const strict = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      crossSlot: 'error',
    });
    strict.applyCommand(cmd('MSET', 'cross:a', '1', 'cross:b', '2'), 10);
    const error = await new Promise<TargetError>((r) => strict.once('error', r));
    expect(error.code).toBe('TARGET_CROSSSLOT');
    expect(error.message).toContain('MSET "cross:a"');
    expect(error.message).not.toContain('"1"');
    await strict.close();
  });

  it('follows ASK and MOVED while a slot migrates between masters', async () => {
    const writer = await TargetWriter.connect({ type: 'cluster', seeds: seedsOf(cluster) });
    const tag = '{migrating}';
    const slot = keySlot(tag);
    const from = await cluster.nodeForSlot(slot);
    const masters = await cluster.masters();
    const to = masters.find((m) => m.port !== from.port)!;
    const [fromId, toId] = await Promise.all([cluster.nodeId(from), cluster.nodeId(to)]);
    const fromClient = from.client();
    const toClient = to.client();
    // the first test left one key in every slot
    const preexisting = Number(await fromClient.cluster('COUNTKEYSINSLOT', slot));

    let offset = 0;
    const write = (i: number) => writer.applyCommand(cmd('SET', `${tag}:${i}`, String(i)), (offset += 10));
    for (let i = 0; i < 100; i++) write(i);
    await writer.flush();

    // Half-way: new keys are answered with ASK by the old owner.
    await toClient.cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await fromClient.cluster('SETSLOT', slot, 'MIGRATING', toId);
    for (let i = 100; i < 200; i++) write(i);
    await writer.flush();
    expect(writer.stats.redirections).toBe(100); // ASK
    const keys = (await fromClient.cluster('GETKEYSINSLOT', slot, 1000)) as string[];
    if (keys.length > 0) await fromClient.migrate('127.0.0.1', to.port, '', 0, 10_000, 'KEYS', ...keys);
    for (const master of masters) await master.client().cluster('SETSLOT', slot, 'NODE', toId);
    // The writer's slot map is stale now: the old owner answers MOVED.
    for (let i = 200; i < 300; i++) write(i);
    await writer.flush();
    // the first MOVED fixes the slot; the rest of the burst was already on its way to the old owner
    expect(writer.stats.redirections).toBeGreaterThan(100);
    expect(writer.acknowledgedOffset).toBe(offset);
    await writer.close();

    expect(await toClient.cluster('COUNTKEYSINSLOT', slot)).toBe(300 + preexisting);
    expect(await toClient.get(`${tag}:299`)).toBe('299');
    expect(await fromClient.cluster('COUNTKEYSINSLOT', slot)).toBe(0);
  });

  it('keeps the order of commands for a slot that moved while they were in flight', async () => {
    const tag = '{ordered}';
    const slot = keySlot(tag);
    const from = await cluster.nodeForSlot(slot);
    const to = (await cluster.masters()).find((m) => m.port !== from.port)!;
    // The old owner's replies come late (through a delaying proxy), the new owner's at once.
    const proxy = await startFaultProxy({ host: from.host, port: from.port });
    try {
      const writer = await TargetWriter.connect({
        type: 'cluster',
        seeds: [{ host: to.host, port: to.port }],
        natMap: { [cluster.announced(from)]: { host: proxy.host, port: proxy.port } },
        maxInFlight: 1000,
      });
      // Move the (empty) slot behind the writer's back: its map is stale from now on.
      const toId = await cluster.nodeId(to);
      for (const master of await cluster.masters())
        await master.client().cluster('SETSLOT', slot, 'NODE', toId);
      proxy.setDelay(150);

      const total = 5000;
      let next = 0;
      let offset = 0;
      const push = () => writer.applyCommand(cmd('RPUSH', `${tag}:list`, String(next++)), (offset += 10));
      for (let i = 0; i < 1000; i++) push(); // burst 1: MOVED back after ~300 ms
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 100; i++) push(); // burst 2: MOVED back ~50 ms after burst 1's
      // Burst 3 is written from 'drain', as soon as the new owner confirmed burst 1: before burst 2's MOVED.
      writer.on('drain', () => {
        while (next < total && push());
      });
      while (next < total) await new Promise((r) => setTimeout(r, 10));
      await writer.flush();
      expect(writer.acknowledgedOffset).toBe(total * 10);
      expect(writer.stats.redirections).toBeGreaterThanOrEqual(1100);
      await writer.close();
      const list = await to.client().lrange(`${tag}:list`, 0, -1);
      expect(list).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    } finally {
      await proxy.close();
    }
  });

  // Last in this suite: it kills a master.
  it('treats losing a master as fatal for the writer (TARGET_CONNECTION_LOST: the session reconnects)', async () => {
    const writer = await TargetWriter.connect({ type: 'cluster', seeds: seedsOf(cluster) });
    for (let i = 0; i < 100; i++) writer.applyCommand(cmd('SET', `lost:${i}`, 'v'), i + 1);
    await writer.flush();
    const errorPromise = new Promise<TargetError>((r) => writer.once('error', r));
    await cluster.nodes[2].kill('SIGKILL');
    const error = await errorPromise;
    expect(error.code).toBe('TARGET_CONNECTION_LOST');
    expect(error.message).toMatch(/resumes from its checkpoint/);
    expect(writer.acknowledgedOffset).toBe(100);
    expect(() => writer.applyCommand(cmd('SET', 'after', 'v'), 101)).toThrow(error);
    await writer.close();
  });
});

describe('TargetWriter (cluster announcing unreachable hostnames)', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, announceHostnames: true, password: 'pw' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('writes through natMap from announced hostname:port to the reachable address', async () => {
    const writer = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      password: 'pw',
      natMap: cluster.natMap(),
      label: 'nat-cluster',
    });
    for (let i = 0; i < 2000; i++) writer.applyCommand(cmd('SET', `nat:${i}`, String(i)), i + 1);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(2000);
    await writer.close();
    const client = cluster.client();
    expect(await client.get('nat:1999')).toBe('1999');
    let total = 0;
    for (const node of cluster.nodes) total += await node.client().dbsize();
    expect(total).toBe(2000);
  });

  it('maps announced addresses through mapAddress (NAT rules) when natMap does not list them', async () => {
    const seen = new Set<string>();
    const writer = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      password: 'pw',
      // What a rule `*.internal.invalid -> 127.0.0.1, port same` does.
      mapAddress: ({ host, port }) => {
        seen.add(host);
        return host.endsWith('.internal.invalid') ? { host: '127.0.0.1', port } : { host, port };
      },
    });
    for (let i = 0; i < 500; i++) writer.applyCommand(cmd('SET', `rule:${i}`, String(i)), i + 1);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(500);
    await writer.close();
    expect([...seen].every((host) => host.endsWith('.internal.invalid'))).toBe(true);
    let total = 0;
    for (const node of cluster.nodes)
      total += await node
        .client()
        .keys('rule:*')
        .then((keys) => keys.length);
    expect(total).toBe(500);
  });

  it('fails clearly without natMap or with a wrong password', async () => {
    const noNat = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      password: 'pw',
      connectTimeoutMs: 1500,
      label: 'nat-cluster',
    }).catch((e) => e);
    expect(noNat.code).toBe('TARGET_CONNECT_FAILED');
    expect(noNat.message).toMatch(/nat-cluster/);
    expect(noNat.message).toMatch(/natMap/);
    expect(noNat.message).toMatch(/node-\d\.internal\.invalid/);

    const badAuth = await TargetWriter.connect({
      type: 'cluster',
      seeds: seedsOf(cluster),
      password: 'nope',
      natMap: cluster.natMap(),
    }).catch((e) => e);
    expect(badAuth.code).toBe('TARGET_AUTH_FAILED');
  });
});
