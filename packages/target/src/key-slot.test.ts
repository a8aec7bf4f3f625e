import { startCluster, type RedisCluster } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from './key-slot.js';

describe('keySlot', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('matches CLUSTER KEYSLOT, hash tags included', async () => {
    const client = cluster.nodes[0].client();
    const keys = [
      '',
      'foo',
      '123456789',
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      '{}',
      '}{',
      '\u00ff\u0000binary',
    ];
    for (let i = 0; i < 200; i++) keys.push(`key:${i * 7919}`);
    for (const key of keys) {
      const bytes = Buffer.from(key, 'latin1');
      expect(keySlot(bytes), key).toBe(await client.cluster('KEYSLOT', bytes));
      expect(keySlot(key), key).toBe(await client.cluster('KEYSLOT', key));
    }
  });
});
