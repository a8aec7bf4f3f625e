import type { Redis } from 'ioredis';

/** Far-future absolute expiry (unix ms) so TTL comparisons are stable whatever the run time. */
export const FAR_EXPIRY_MS = Date.UTC(2100, 0, 1);

/**
 * Loads one of everything replication must carry: every type in several encodings, binary keys, expiries,
 * several dbs, a stream with groups/PEL/consumers, Lua functions and (optionally) one big string.
 */
export async function loadEveryType(
  client: Redis,
  options: { keysPerType?: number; bigKeyBytes?: number } = {},
) {
  const n = options.keysPerType ?? 200;
  const pipeline = client.pipeline();
  for (let i = 0; i < n; i++) {
    pipeline.set(`str:${i}`, `value-${i}`);
    pipeline.set(`int:${i}`, String(i * 1000 - 7));
    pipeline.rpush(`list:${i}`, ...Array.from({ length: (i % 7) + 1 }, (_, j) => `e${j}`));
    pipeline.sadd(`set:${i}`, ...Array.from({ length: (i % 5) + 1 }, (_, j) => `m${j}`));
    pipeline.sadd(`intset:${i}`, ...Array.from({ length: (i % 5) + 1 }, (_, j) => String(j * 70000)));
    pipeline.zadd(`zset:${i}`, 1.5, 'a', -0.25, 'b', i, 'c');
    pipeline.hset(`hash:${i}`, 'f1', 'v1', 'f2', String(i));
  }
  // Big encodings: over the listpack thresholds.
  pipeline.rpush('list:big', ...Array.from({ length: 1000 }, (_, j) => `element-${j}-${'x'.repeat(j % 50)}`));
  pipeline.sadd('set:big', ...Array.from({ length: 600 }, (_, j) => `member-${j}`));
  const zargs: Array<string | number> = [];
  for (let j = 0; j < 300; j++) zargs.push(j / 3, `z${j}`);
  pipeline.zadd('zset:big', ...zargs);
  pipeline.zadd('zset:edge', '+inf', 'pinf', '-inf', 'ninf', 0, 'zero', 1e-300, 'tiny', 0.1, 'tenth');
  pipeline.hset('hash:big', ...Array.from({ length: 600 }, (_, j) => [`field-${j}`, `v${j}`]).flat());
  pipeline.set(Buffer.from([0, 1, 2, 0xff, 13, 10]), Buffer.from([0xfe, 0, 13, 10]));
  pipeline.set('lzf:compressible', 'abc'.repeat(5000));
  // Expiries on every type.
  for (const key of ['str:0', 'list:0', 'set:0', 'zset:0', 'hash:0']) pipeline.pexpireat(key, FAR_EXPIRY_MS);
  pipeline.set('expiring:soon', 'x', 'PX', 3_600_000);
  // Streams with deleted entries, groups, PEL, consumers.
  for (let j = 0; j < 50; j++) pipeline.xadd('stream:1', `${1000 + j}-0`, 'field', `v${j}`, 'n', String(j));
  pipeline.xdel('stream:1', '1003-0');
  pipeline.xgroup('CREATE', 'stream:1', 'g1', '0');
  pipeline.xgroup('CREATE', 'stream:1', 'g-empty', '$');
  pipeline.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 5, 'STREAMS', 'stream:1', '>');
  pipeline.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 3, 'STREAMS', 'stream:1', '>');
  pipeline.xack('stream:1', 'g1', '1000-0');
  pipeline.pexpireat('stream:1', FAR_EXPIRY_MS);
  // Other databases.
  pipeline.select(1);
  pipeline.set('db1:key', 'one');
  pipeline.rpush('db1:list', 'a', 'b');
  pipeline.select(5);
  pipeline.hset('db5:hash', 'k', 'v');
  pipeline.select(0);
  await pipeline.exec();
  await client.call(
    'FUNCTION',
    'LOAD',
    'REPLACE',
    "#!lua name=shardbridge_demo\nredis.register_function('sb_echo', function(keys, args) return args[1] end)",
  );
  if (options.bigKeyBytes) {
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;
    await client.del('big:string');
    for (let written = 0; written < options.bigKeyBytes; written += chunk.length) {
      await client.append(
        'big:string',
        chunk.subarray(0, Math.min(chunk.length, options.bigKeyBytes - written)),
      );
    }
  }
}

/**
 * One round of writes touching every type's write commands, MULTI/EXEC, EVAL, FUNCTION, EXPIRE/PERSIST, DEL,
 * FLUSHDB (on db 7, so the rest survives) — for replication of the live command stream.
 */
export async function writeEveryCommandOnce(client: Redis, round: number): Promise<void> {
  const r = round;
  const p = client.pipeline();
  p.set(`live:str:${r % 50}`, `v${r}`);
  p.incr('live:counter');
  p.incrbyfloat('live:float', 0.1);
  p.append('live:append', `${r},`);
  p.setrange('live:range', r % 20, 'Z');
  p.getdel(`live:str:${(r + 25) % 50}`);
  p.rpush('live:list', `r${r}`);
  p.lpush('live:list', `l${r}`);
  if (r % 3 === 0) p.lpop('live:list');
  if (r % 5 === 0) p.ltrim('live:list', 0, 200);
  p.lset('list:big', r % 100, `set-${r}`);
  p.sadd('live:set', `m${r % 40}`);
  if (r % 4 === 0) p.srem('live:set', `m${(r + 7) % 40}`);
  p.smove('set:1', 'live:set', 'm0');
  p.zadd('live:zset', r / 7, `z${r % 30}`);
  p.zincrby('live:zset', 1.25, 'z0');
  if (r % 6 === 0) p.zremrangebyrank('live:zset', 0, 0);
  p.hset('live:hash', `f${r % 30}`, `v${r}`);
  p.hincrby('live:hash', 'count', 1);
  if (r % 5 === 0) p.hdel('live:hash', `f${(r + 3) % 30}`);
  p.xadd('live:stream', '*', 'round', String(r));
  if (r % 10 === 0) p.xtrim('live:stream', 'MAXLEN', 100);
  p.xreadgroup('GROUP', 'g1', 'carol', 'COUNT', 1, 'STREAMS', 'stream:1', '>');
  p.setex(`live:ttl:${r % 20}`, 3600, 'x');
  p.pexpireat(`live:str:${r % 50}`, FAR_EXPIRY_MS);
  if (r % 7 === 0) p.persist(`live:str:${(r + 1) % 50}`);
  p.del(`str:${r % 200}`);
  p.rename(`hash:${(r % 100) + 100}`, `renamed:${r}`);
  p.eval(
    "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
    2,
    'live:eval',
    'live:eval:n',
    `e${r}`,
  );
  p.fcall('sb_echo', 0, 'ping');
  p.select(7);
  p.set(`db7:${r}`, 'tmp');
  if (r % 10 === 9) p.flushdb();
  p.select(1);
  p.rpush('db1:list', `r${r}`);
  p.select(0);
  await p.exec();
  const tx = client.multi();
  tx.incr('live:tx:counter');
  tx.rpush('live:tx:list', `t${r}`);
  tx.hset('live:tx:hash', 'last', String(r));
  await tx.exec();
  if (r % 25 === 0) {
    await client.call(
      'FUNCTION',
      'LOAD',
      'REPLACE',
      `#!lua name=shardbridge_live\nredis.register_function('sb_live', function(keys, args) return ${r} end)`,
    );
  }
}
