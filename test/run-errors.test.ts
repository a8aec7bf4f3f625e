import { createServer, type Server, type Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, startFaultProxy, startRedis, type RedisServer } from '@shardbridge/testkit';
import { runCli, startCli } from './support/cli-process.js';
import { scratchDir, startIdempotentWrites, waitUntilCaughtUp, writePlan } from './support/sync-harness.js';

const CHECKPOINT = { replid: 'f'.repeat(40), offset: 4242, db: 0, savedAt: 1 };

async function seedCheckpoint(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'e2e-0.checkpoint.json');
  await writeFile(file, JSON.stringify(CHECKPOINT));
  return file;
}

describe('shardbridge run: clear errors, no hang, checkpoint kept', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const servers: RedisServer[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    scratch = await scratchDir();
  });
  afterEach(async () => {
    await Promise.all([
      ...servers.splice(0).map((s) => s.stop()),
      ...closers.splice(0).map((close) => close()),
    ]);
  });
  afterAll(async () => {
    await scratch?.remove();
  });

  it('wrong source password: names the address and the fix, keeps the checkpoint', async () => {
    const source = await startRedis({ password: 'right-password' });
    const target = await startRedis();
    servers.push(source, target);
    const dir = join(scratch.path, 'wrong-password');
    const checkpointFile = await seedCheckpoint(dir);
    const plan = await writePlan(dir, { ...source, password: 'wrong-password' }, target);
    const result = await runCli(['run', '--direct', plan, '--checkpoint-dir', dir], {}, 30_000);
    expect(result.code).toBe(1);
    const lastLine = result.stderr.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(/^error: /);
    expect(lastLine).toContain(`${source.host}:${source.port}`);
    expect(lastLine).toMatch(/password/i);
    expect(result.stderr).not.toContain('wrong-password');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(JSON.parse(await readFile(checkpointFile, 'utf8'))).toEqual(CHECKPOINT);
  });

  it('unreachable source (accepts, never answers): times out with the address, no hang', async () => {
    const target = await startRedis();
    servers.push(target);
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: target.port });
    closers.push(() => proxy.close());
    proxy.blackhole(true);
    const dir = join(scratch.path, 'blackhole');
    const checkpointFile = await seedCheckpoint(dir);
    const plan = await writePlan(dir, proxy, target);
    const result = await runCli(['run', '--direct', plan, '--checkpoint-dir', dir], {}, 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`error: .*${proxy.host}:${proxy.port}`));
    expect(result.stderr).toMatch(/REPL_CONNECT_TIMEOUT/);
    expect(JSON.parse(await readFile(checkpointFile, 'utf8'))).toEqual(CHECKPOINT);
  });

  it('corrupt RDB from the source: names the byte offset and the source, writes no checkpoint', async () => {
    const donor = await startRedis();
    const target = await startRedis();
    servers.push(donor, target);
    const client = donor.client();
    for (let i = 0; i < 200; i++) await client.rpush(`list:${i}`, 'a', 'b', `${i}`);
    await client.save();
    const rdb = Buffer.from(await readFile(join(donor.dir, 'dump.rdb')));
    // Damage a length deep inside the file: the parser must notice, by structure or by CRC64.
    rdb[Math.floor(rdb.length / 2)] ^= 0xff;
    const fake = await startFakeMaster(rdb);
    closers.push(() => new Promise((resolve) => fake.server.close(resolve)));
    const dir = join(scratch.path, 'corrupt');
    const plan = await writePlan(dir, { host: '127.0.0.1', port: fake.port }, target);
    const result = await runCli(['run', '--direct', plan, '--checkpoint-dir', dir], {}, 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: .*RDB.*offset \d+/i);
    expect(result.stderr).toContain(`127.0.0.1:${fake.port}`);
    await expect(readFile(join(dir, 'e2e-0.checkpoint.json'), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });
    fake.sockets.forEach((socket) => socket.destroy());
  });

  it('RDB damaged in flight (CRC mismatch after every key): fails naming shard and source, says what the target holds, clears the checkpoint', async () => {
    const donor = await startRedis({ config: { rdbcompression: 'no' } });
    const target = await startRedis();
    servers.push(donor, target);
    const client = donor.client();
    for (let i = 0; i < 300; i++) await client.hset(`hash:${i}`, { field: `value-${i}-`.padEnd(60, 'x') });
    await client.save();
    const rdb = Buffer.from(await readFile(join(donor.dir, 'dump.rdb')));
    // 4 bytes of a value overwritten: every item still parses, only the CRC-64 at the end tells.
    rdb.write('\xde\xad\xbe\xef', rdb.indexOf('value-150-') + 6, 'latin1');
    const fake = await startFakeMaster(rdb);
    closers.push(() => new Promise((resolve) => fake.server.close(resolve)));
    const dir = join(scratch.path, 'damaged-in-flight');
    // A checkpoint of an earlier stream: the fake master answers FULLRESYNC, so it stops describing the target.
    const checkpointFile = await seedCheckpoint(dir);
    const plan = await writePlan(dir, { host: '127.0.0.1', port: fake.port }, target);
    const result = await runCli(['run', '--direct', plan, '--checkpoint-dir', dir], {}, 30_000);
    fake.sockets.forEach((socket) => socket.destroy());
    expect(result.code).toBe(1);
    const lastLine = result.stderr.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(
      new RegExp(
        `^error: shard e2e-0: the RDB sent by .*127\\.0\\.0\\.1:${fake.port}.* is damaged: RDB checksum mismatch: .*` +
          `\\(at byte offset ${rdb.length - 8}\\)\\. The target holds the 300 keys written from it before that ` +
          'byte, and any of them may hold a damaged value; no checkpoint was kept, so the next attempt is a full ' +
          'resync that rewrites every key: run the sync again.* \\[RDB_CHECKSUM_MISMATCH\\]$',
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await target.client().dbsize()).toBe(300);
    await expect(readFile(checkpointFile, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('target out of memory: fails naming the target, keeps the last confirmed offset, resumes after the fix', async () => {
    const source = await startRedis({ config: { 'repl-backlog-size': '64mb' } });
    const target = await startRedis({ config: { maxmemory: '3mb', 'maxmemory-policy': 'noeviction' } });
    servers.push(source, target);
    const client = source.client();
    await client.set('small', 'x');
    const dir = join(scratch.path, 'oom');
    const plan = await writePlan(dir, source, target);
    const args = ['run', '--direct', plan, '--checkpoint-dir', dir, '--progress-interval', '200'];
    let cli = startCli(args);
    await cli.waitFor(/incremental/);
    await waitUntilCaughtUp(cli, source);

    const value = 'v'.repeat(50_000);
    for (let i = 0; i < 200; i++) await client.set(`big:${i}`, value);
    const code = await cli.exited;
    expect(code).toBe(1);
    expect(cli.stderr()).toMatch(new RegExp(`error: .*target ${target.host}:${target.port}.*out of memory`));
    expect(cli.stderr()).toMatch(/maxmemory/);
    const checkpoint = JSON.parse(await readFile(join(dir, 'e2e-0.checkpoint.json'), 'utf8'));
    const targetKeys = await target.client().dbsize();
    expect(targetKeys).toBeGreaterThan(1);
    expect(targetKeys).toBeLessThan(201);

    await target.client().config('SET', 'maxmemory', '0');
    cli = startCli(args);
    await cli.waitFor(/partial resync accepted/);
    await waitUntilCaughtUp(cli, source);
    await assertSameContents(client, target.client());
    expect(checkpoint.offset).toBeGreaterThan(0);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 120_000);
});

describe('shardbridge run: the target restarts mid-stream', () => {
  it('reconnects to the target and resumes from the checkpoint with +CONTINUE', async () => {
    const scratch = await scratchDir();
    const source = await startRedis({ config: { 'repl-backlog-size': '64mb' } });
    // A target that keeps what it confirmed across a crash, as a production target would.
    const target = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always' } });
    try {
      const client = source.client();
      await client.set('before', '1');
      const plan = await writePlan(scratch.path, source, target);
      const cli = startCli([
        'run',
        '--direct',
        plan,
        '--checkpoint-dir',
        scratch.path,
        '--progress-interval',
        '200',
      ]);
      await cli.waitFor(/incremental/);
      const writes = startIdempotentWrites(client);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await target.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await target.restart();
      await cli.waitFor(/link lost[\s\S]*partial resync accepted/);
      await writes.stop();
      await waitUntilCaughtUp(cli, source);
      await assertSameContents(client, target.client());
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    } finally {
      await Promise.all([source.stop(), target.stop(), scratch.remove()]);
    }
  }, 120_000);
});

/**
 * A peer that speaks just enough of the master side of PSYNC to hand over a given RDB: the way to feed the sync a
 * corrupt file, which no real server would send.
 */
async function startFakeMaster(rdb: Buffer): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let text = '';
    let streaming = false;
    socket.on('data', (chunk) => {
      if (streaming) return; // ACKs after the hand-off need no answer
      text += chunk.toString('latin1');
      // Commands arrive as RESP arrays of bulk strings: `*N`, then N pairs of `$len` + value lines.
      for (;;) {
        const lines = text.split('\r\n');
        const count = Number(lines[0]?.slice(1));
        if (!lines[0]?.startsWith('*') || lines.length < 1 + 2 * count + 1) return;
        const args = Array.from({ length: count }, (_, i) => lines[2 + 2 * i]);
        text = lines.slice(1 + 2 * count).join('\r\n');
        const name = args[0].toUpperCase();
        if (name === 'PING') socket.write('+PONG\r\n');
        else if (name === 'PSYNC') {
          streaming = true;
          socket.write(`+FULLRESYNC ${'a'.repeat(40)} 0\r\n$${rdb.length}\r\n`);
          socket.write(rdb);
          return;
        } else socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fake master has no port');
  return { server, port: address.port, sockets };
}
