import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandKeys } from './command-keys.js';

const args = (...parts: string[]) => parts.map((p) => Buffer.from(p));
const keyOf = (keys: CommandKeys, ...parts: string[]) =>
  keys.routingKey(parts[0].toUpperCase(), args(...parts))?.toString() ?? null;

describe('CommandKeys', () => {
  let server: RedisServer;
  let fromServer: CommandKeys;

  beforeAll(async () => {
    server = await startRedis();
    fromServer = CommandKeys.fromCommandReply(await server.client().call('COMMAND'));
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const source of ['COMMAND table', 'built-in rules'] as const) {
    it(`finds routing keys with the ${source}`, () => {
      const keys = source === 'COMMAND table' ? fromServer : CommandKeys.builtIn();
      expect(keyOf(keys, 'SET', 'k', 'v')).toBe('k');
      expect(keyOf(keys, 'ZUNIONSTORE', 'dest', '2', 'a', 'b')).toBe('dest');
      expect(keyOf(keys, 'EVALSHA', 'sha', '1', 'k1', 'arg')).toBe('k1');
      expect(keyOf(keys, 'EVAL', 'return 1', '0')).toBeNull();
      expect(keyOf(keys, 'XGROUP', 'CREATE', 'stream', 'g', '$')).toBe('stream');
      expect(keyOf(keys, 'LMPOP', '2', 'l1', 'l2', 'LEFT')).toBe('l1');
      expect(keyOf(keys, 'PUBLISH', 'channel', 'message')).toBeNull();
      expect(keyOf(keys, 'FLUSHALL')).toBeNull();
    });
  }

  it('uses the table for keyless commands the built-in rules do not list', () => {
    expect(keyOf(CommandKeys.builtIn(), 'WAIT', '1', '0')).toBe('1');
    expect(keyOf(fromServer, 'WAIT', '1', '0')).toBeNull();
  });
});
