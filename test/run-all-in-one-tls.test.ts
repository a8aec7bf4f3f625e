import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameContents, loadEveryType, startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { scratchDir, waitUntilCaughtUp } from './support/sync-harness.js';
import { writeTlsPlan } from './support/tls-plan.js';

const SOURCE_PASSWORD = 'src-Secret-4a7c1e';
const TARGET_PASSWORD = 'tgt-Secret-9b3d52';

/** Every value of every key in `client`'s db 0, as text: what an operator with access to the queue could read. */
async function everythingIn(client: Redis): Promise<{ keys: string[]; text: string }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  const parts: string[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    const value =
      type === 'string'
        ? await client.get(key)
        : type === 'hash'
          ? await client.hgetall(key)
          : type === 'list'
            ? await client.lrange(key, 0, -1)
            : type === 'set'
              ? await client.smembers(key)
              : type === 'zset'
                ? await client.zrange(key, 0, -1, 'WITHSCORES')
                : type === 'stream'
                  ? await client.xrange(key, '-', '+')
                  : `(${type})`;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return { keys, text: parts.join('\n') };
}

/**
 * The queue path (`shardbridge run <plan>`: embedded queue, coordinator and worker in one process) with a TLS
 * source and TLS target that both require client certificates and an ACL user with a password; every secret is a
 * reference (`env:`, `file:`), so the job data in the queue's Redis carries references only.
 */
describe('shardbridge run (all-in-one): TLS with client certificates and ACL users through the queue', () => {
  let source: TlsRedis;
  let target: TlsRedis;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startTlsRedis({
        requireClientCert: true,
        certificateName: 'source.shardbridge.test',
        username: 'sb-source',
        password: SOURCE_PASSWORD,
      }),
      startTlsRedis({
        requireClientCert: true,
        certificateName: 'target.shardbridge.test',
        username: 'sb-target',
        password: TARGET_PASSWORD,
      }),
      scratchDir(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  /** Runs the plan through the queue path until caught up, then returns everything the queue Redis holds. */
  async function runAndReadQueue(name: string, plan: string, env: NodeJS.ProcessEnv): Promise<string> {
    const cli = startCli(
      ['run', plan, '--data-dir', join(scratch.path, `data-${name}`), '--progress-interval', '200'],
      env,
    );
    let queue: Redis | undefined;
    try {
      const [, queueUrl] = await cli.waitFor(/queue (redis:\/\/\S+?)[;\s]/);
      await cli.waitFor(/incremental/, 120_000);
      await source.server.client().set(`${name}:during`, 'yes');
      await waitUntilCaughtUp(cli, source.server);
      expect(await target.server.client().get(`${name}:during`)).toBe('yes');
      await assertSameContents(source.server.client(), target.server.client(), {
        streamEntriesRead: 'ignore',
      });
      queue = new Redis(queueUrl, { maxRetriesPerRequest: 1 });
      const { keys, text } = await everythingIn(queue);
      // The job data is there, so the searches of the caller searched it.
      expect(keys.some((key) => key.startsWith('bull:'))).toBe(true);
      return text;
    } finally {
      queue?.disconnect();
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  }

  function expectNoSecret(text: string): void {
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(SOURCE_PASSWORD);
    expect(text).not.toContain(TARGET_PASSWORD);
    for (const pem of [source.clientKey, target.clientKey]) {
      // The base64 body of each key, line by line: no fragment of a key may be stored either.
      const lines = pem
        .toString()
        .split('\n')
        .filter((line) => line.length > 0 && !line.startsWith('-----'));
      for (const line of lines) expect(text).not.toContain(line);
    }
  }

  it('syncs with env:/file: references, and the queue Redis holds the references only', async () => {
    await loadEveryType(source.server.client(), { keysPerType: 30 });
    const passwordFile = join(scratch.path, 'target-password');
    await writeFile(passwordFile, `${TARGET_PASSWORD}\n`);
    const plan = await writeTlsPlan(
      scratch.path,
      'aio-mtls',
      {
        server: source,
        servername: 'source.shardbridge.test',
        username: 'sb-source',
        password: 'env:SB_E2E_SOURCE_PASSWORD',
        key: `file:${source.files.clientKey}`,
      },
      {
        server: target,
        servername: 'target.shardbridge.test',
        username: 'sb-target',
        password: `file:${passwordFile}`,
        key: 'env:SB_E2E_TARGET_KEY',
      },
    );
    const text = await runAndReadQueue('aio-mtls', plan, {
      SB_E2E_SOURCE_PASSWORD: SOURCE_PASSWORD,
      SB_E2E_TARGET_KEY: target.clientKey.toString(),
    });
    expect(text).toContain('env:SB_E2E_SOURCE_PASSWORD');
    expect(text).toContain(`file:${passwordFile}`);
    expect(text).toContain('env:SB_E2E_TARGET_KEY');
    expectNoSecret(text);
  }, 180_000);

  it('without the source client certificate: the coordinator refuses the plan with one error line naming the fix', async () => {
    const plan = await writeTlsPlan(
      scratch.path,
      'aio-mtls-no-cert',
      {
        server: source,
        servername: 'source.shardbridge.test',
        username: 'sb-source',
        password: 'env:SB_E2E_SOURCE_PASSWORD',
      },
      {
        server: target,
        servername: 'target.shardbridge.test',
        username: 'sb-target',
        password: 'env:SB_E2E_TARGET_PASSWORD',
        key: `file:${target.files.clientKey}`,
      },
    );
    const cli = startCli(['run', plan, '--data-dir', join(scratch.path, 'data-no-cert')], {
      SB_E2E_SOURCE_PASSWORD: SOURCE_PASSWORD,
      SB_E2E_TARGET_PASSWORD: TARGET_PASSWORD,
    });
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), 60_000);
    const code = await cli.exited;
    clearTimeout(timer);
    const output = `${cli.stdout()}\n${cli.stderr()}`;
    // 1: the preflight refused the plan (PREFLIGHT_FAILED), as submit and discover exit for it; 2 = an invalid plan.
    expect(code, output).toBe(1);
    const errors = cli
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('error:'));
    expect(errors, output).toHaveLength(1);
    expect(errors[0]).toContain(`127.0.0.1:${source.tlsPort}`);
    expect(errors[0]).toContain('PREFLIGHT_FAILED');
    expect(errors[0]).toContain('set source.tls.cert and source.tls.key');
    expect(output).not.toMatch(/^\s+at /m);
  }, 90_000);

  it('a local plan file with a literal password and PEM key: the run keeps both out of the queue too', async () => {
    const plan = await writeTlsPlan(
      scratch.path,
      'aio-mtls-literal',
      {
        server: source,
        servername: 'source.shardbridge.test',
        username: 'sb-source',
        password: SOURCE_PASSWORD,
        key: source.clientKey.toString(),
      },
      {
        server: target,
        servername: 'target.shardbridge.test',
        username: 'sb-target',
        password: TARGET_PASSWORD,
        key: target.clientKey.toString(),
      },
    );
    expectNoSecret(await runAndReadQueue('aio-mtls-literal', plan, {}));
  }, 180_000);
});
