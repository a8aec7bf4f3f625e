import { startCluster, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTargetRestore } from './migration-restore.js';
import { TargetWriter } from './target-writer.js';

const cmd = (...parts: Array<string | Buffer>): Buffer[] =>
  parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));

describe('RESTORE-ASKING of a slot migration, as the target writes it', () => {
  let standalone: RedisServer;
  let cluster: RedisCluster;

  beforeAll(async () => {
    [standalone, cluster] = await Promise.all([startRedis(), startCluster({ masters: 2 })]);
  });
  afterAll(async () => {
    await Promise.all([standalone?.stop(), cluster?.stop()]);
  });

  it('becomes RESTORE with REPLACE once, other commands pass untouched', () => {
    const asking = cmd('RESTORE-ASKING', 'k', '0', 'payload');
    expect(asTargetRestore('RESTORE-ASKING', asking).map(String)).toEqual([
      'RESTORE',
      'k',
      '0',
      'payload',
      'REPLACE',
    ]);
    const replacing = cmd('RESTORE-ASKING', 'k', '1700000000000', 'payload', 'REPLACE', 'ABSTTL');
    expect(asTargetRestore('RESTORE-ASKING', replacing).map(String)).toEqual([
      'RESTORE',
      'k',
      '1700000000000',
      'payload',
      'REPLACE',
      'ABSTTL',
    ]);
    const set = cmd('SET', 'k', 'v');
    expect(asTargetRestore('SET', set)).toBe(set);
  });

  it('replaces a key the target still holds (standalone) and keeps the absolute TTL', async () => {
    const client = standalone.client();
    await client.set('moved', 'old value');
    await client.set('scratch', 'new value');
    const payload = await client.dumpBuffer('scratch');
    const expireAt = Date.now() + 3_600_000;
    const writer = await TargetWriter.connect({
      type: 'standalone',
      seeds: [{ host: standalone.host, port: standalone.port }],
    });
    writer.applyCommand(cmd('RESTORE-ASKING', 'moved', String(expireAt), payload, 'ABSTTL'), 100);
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(100);
    expect(await client.get('moved')).toBe('new value');
    expect(await client.pexpiretime('moved')).toBe(expireAt);
    await writer.close();
    client.disconnect();
  });

  it('is routed by its key on a cluster target whose node imports nothing', async () => {
    const client = cluster.client();
    await client.set('{a}migrated', 'old');
    await client.set('{a}scratch', 'new');
    const payload = await client.dumpBuffer('{a}scratch');
    const writer = await TargetWriter.connect({
      type: 'cluster',
      seeds: [{ host: cluster.nodes[0].host, port: cluster.nodes[0].port }],
    });
    for (const [index, key] of ['{a}migrated', '{b}fresh', '{c}fresh'].entries()) {
      writer.applyCommand(cmd('RESTORE-ASKING', key, '0', payload), 10 + index);
    }
    await writer.flush();
    expect(writer.acknowledgedOffset).toBe(12);
    expect(await client.mget('{a}migrated')).toEqual(['new']);
    expect(await client.get('{b}fresh')).toBe('new');
    expect(await client.get('{c}fresh')).toBe('new');
    await writer.close();
  });
});
