import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  loadEveryType,
  startRedis,
  startTlsRedis,
  type RedisServer,
  type TlsRedis,
} from '@shardbridge/testkit';
import { SHARD_QUEUE } from '@shardbridge/plan';
import { runCli, startCli, type CliProcess } from '../support/cli-process.js';
import { scratchDir } from '../support/sync-harness.js';
import { allIncremental, call, waitForShards, type Answer } from '../control-plane/support/api.js';
import { API_TOKEN } from '../control-plane/support/processes.js';
import { dumpEverything } from './queue-dump.js';

// Distinct, greppable secrets: each must appear nowhere an operator or an attacker with queue access can read.
const SOURCE_PASSWORD = 'leakSrc-7f3e91c2-pw';
const TARGET_PASSWORD = 'leakTgt-2b8d40a6-pw';
const WRONG_PASSWORD = 'leakWrong-5c1a93e7-pw';
const QUEUE_PASSWORD = 'leakQueue-8e4f27b0-pw';
const LITERAL_PASSWORD = 'leakLiteral-d41e0c55-pw';

/**
 * Secrets stay references (`env:`, `file:`) end to end: a coordinator and a worker process (debug logs) share a
 * queue Redis reached over TLS with a client certificate and an ACL password; a source and a target require ACL
 * users. After a healthy sync, a refused literal password, a refused wrong source password and a shard that
 * fails on a wrong target password, every log line, every API/UI answer and every key of the queue Redis is
 * searched for every secret.
 */
describe('secrets never leak into the queue, logs, API or UI', () => {
  let queue: TlsRedis;
  let source: RedisServer;
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let coordinator: CliProcess;
  let worker: CliProcess;
  let api: string;
  const answers: string[] = [];
  const cliOutputs: string[] = [];

  async function record(path: string, options: Parameters<typeof call>[2] = {}): Promise<Answer> {
    const answer = await call(api, path, options);
    // The request line is kept without its own `?token=`: only what the coordinator answered is searched.
    const request = `${options.method ?? 'GET'} ${path.replace(/token=[^&]*/, 'token=…')}`;
    answers.push(`${request} ${answer.status}\n${[...answer.headers].join('\n')}\n${answer.text}`);
    return answer;
  }

  function secretLines(): string[] {
    const keyLines = queue.clientKey
      .toString()
      .split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('-----'));
    return [SOURCE_PASSWORD, TARGET_PASSWORD, WRONG_PASSWORD, QUEUE_PASSWORD, LITERAL_PASSWORD, ...keyLines];
  }

  function expectNoSecret(what: string, text: string, extra: string[] = []): void {
    for (const secret of [...secretLines(), ...extra]) {
      const at = text.indexOf(secret);
      expect(at, `${what} contains a secret: …${text.slice(Math.max(0, at - 200), at + 80)}…`).toBe(-1);
    }
  }

  beforeAll(async () => {
    [queue, source, target, scratch] = await Promise.all([
      startTlsRedis({ requireClientCert: true, username: 'sb-queue', password: QUEUE_PASSWORD }),
      startRedis({ username: 'sb-source', password: SOURCE_PASSWORD }),
      startRedis({ username: 'sb-target', password: TARGET_PASSWORD }),
      scratchDir(),
    ]);
    const targetPasswordFile = join(scratch.path, 'target-password');
    await writeFile(targetPasswordFile, `${TARGET_PASSWORD}\n`);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    // The queue's password sits in the URL from the environment, its client key in the environment: neither is on
    // a command line or in a file a plan names.
    const queueFlags = [
      '--queue-tls-ca',
      queue.files.ca,
      '--queue-tls-cert',
      queue.files.clientCert,
      '--queue-tls-key',
      'env:SB_LEAK_QUEUE_KEY',
      '--log-level',
      'debug',
    ];
    const common = {
      SHARDBRIDGE_QUEUE: `rediss://sb-queue:${QUEUE_PASSWORD}@127.0.0.1:${queue.tlsPort}`,
      SB_LEAK_QUEUE_KEY: queue.clientKey.toString(),
      SB_LEAK_SOURCE_PASSWORD: SOURCE_PASSWORD,
      SB_LEAK_TARGET_PASSWORD_FILE: targetPasswordFile,
      SB_LEAK_WRONG_SOURCE_PASSWORD: WRONG_PASSWORD,
      // Only these references resolve: the API token (in the coordinator's environment) cannot be named.
      SHARDBRIDGE_SECRET_REFERENCES: `env:SB_LEAK_*,file:${scratch.path}/*`,
    };
    // SB_LEAK_FLAKY_PASSWORD differs per host: the coordinator's preflight passes, the worker's AUTH fails.
    coordinator = startCli(['coordinator', '--port', String(port), ...queueFlags], {
      ...common,
      SHARDBRIDGE_API_TOKEN: API_TOKEN,
      SB_LEAK_FLAKY_PASSWORD: TARGET_PASSWORD,
    });
    worker = startCli(['worker', '--concurrency', '2', ...queueFlags], {
      ...common,
      SB_LEAK_FLAKY_PASSWORD: WRONG_PASSWORD,
    });
    await Promise.all([
      coordinator.waitFor(/coordinator listening on/, 60_000),
      worker.waitFor(/worker ready/, 60_000),
    ]);
  });

  afterAll(async () => {
    for (const cli of [coordinator, worker]) cli?.child.kill('SIGKILL');
    await Promise.all([coordinator?.exited, worker?.exited]);
    await Promise.all([queue?.stop(), source?.stop(), target?.stop(), scratch?.remove()]);
  });

  function plan(name: string, sourcePassword: string, targetPassword: string) {
    return {
      name,
      source: {
        type: 'standalone',
        seeds: [`127.0.0.1:${source.port}`],
        username: 'sb-source',
        password: sourcePassword,
      },
      target: {
        type: 'standalone',
        seeds: [`127.0.0.1:${target.port}`],
        username: 'sb-target',
        password: targetPassword,
      },
    };
  }
  const context = () =>
    `coordinator:\n${coordinator.stderr().slice(-3000)}\nworker:\n${worker.stdout().slice(-5000)}`;

  it('syncs a plan whose passwords are env:/file: references', async () => {
    await loadEveryType(source.client(), { keysPerType: 10 });
    const created = await record('/v1/plans', {
      body: plan('leak-ok', 'env:SB_LEAK_SOURCE_PASSWORD', `file:${join(scratch.path, 'target-password')}`),
    });
    expect(created.status, created.text).toBe(201);
    const planId = created.body.id as string;
    await waitForShards(api, planId, 'incremental', allIncremental, { timeoutMs: 120_000, context });
    await source.client().set('leak:during', 'yes');
    const deadline = Date.now() + 60_000;
    while ((await target.client().get('leak:during')) !== 'yes') {
      if (Date.now() > deadline) throw new Error(`the live write never reached the target\n${context()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await record(`/v1/plans/${planId}`);
  }, 180_000);

  it('refuses a literal password without echoing it', async () => {
    const refused = await record('/v1/plans', {
      body: plan('leak-literal', LITERAL_PASSWORD, 'env:SB_LEAK_SOURCE_PASSWORD'),
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('source.password');
  });

  it('refuses a wrong source password at preflight without echoing it', async () => {
    const refused = await record('/v1/plans', {
      body: plan('leak-wrong-source', 'env:SB_LEAK_WRONG_SOURCE_PASSWORD', 'env:SB_LEAK_FLAKY_PASSWORD'),
    });
    expect(refused.status, refused.text).toBeGreaterThanOrEqual(400);
    const discover = await record('/v1/discover', {
      body: plan('leak-wrong-source', 'env:SB_LEAK_WRONG_SOURCE_PASSWORD', 'env:SB_LEAK_FLAKY_PASSWORD'),
    });
    expect(discover.text).toMatch(/auth|password|WRONGPASS/i);
    // The same preflight from the CLI, in its own process, as text and as JSON.
    const planFile = join(scratch.path, 'wrong-source.plan.json');
    await writeFile(
      planFile,
      JSON.stringify(
        plan('leak-wrong-source', 'env:SB_LEAK_WRONG_SOURCE_PASSWORD', 'env:SB_LEAK_FLAKY_PASSWORD'),
      ),
    );
    const env = { SB_LEAK_WRONG_SOURCE_PASSWORD: WRONG_PASSWORD, SB_LEAK_FLAKY_PASSWORD: TARGET_PASSWORD };
    for (const args of [['--local'], ['--local', '--json']]) {
      const local = await runCli(['discover', planFile, ...args], env);
      expect(local.code, local.stdout + local.stderr).toBe(1);
      cliOutputs.push(local.stdout, local.stderr);
    }
  });

  it('refuses a reference outside SHARDBRIDGE_SECRET_REFERENCES, here the API token itself', async () => {
    const refused = await record('/v1/plans', {
      body: plan('leak-not-allowed', 'env:SHARDBRIDGE_API_TOKEN', 'env:SB_LEAK_FLAKY_PASSWORD'),
    });
    expect(refused.status, refused.text).toBeGreaterThanOrEqual(400);
    expect(refused.text).toContain('PLAN_SECRET_NOT_ALLOWED');
    expect(refused.text).toContain('env:SHARDBRIDGE_API_TOKEN');
  });

  it('fails a shard on a wrong target password; its error names the cause, not the secret', async () => {
    const created = await record('/v1/plans', {
      body: plan('leak-fail', 'env:SB_LEAK_SOURCE_PASSWORD', 'env:SB_LEAK_FLAKY_PASSWORD'),
    });
    expect(created.status, created.text).toBe(201);
    const planId = created.body.id as string;
    const [shard] = await waitForShards(
      api,
      planId,
      'failed',
      (shards) => shards.every((item) => item.phase === 'failed'),
      { timeoutMs: 120_000, context },
    );
    expect(shard.lastError?.message, JSON.stringify(shard.lastError)).toMatch(/WRONGPASS|password/i);
    const status = await runCli(['status', planId, '--json'], {
      SHARDBRIDGE_API: api,
      SHARDBRIDGE_API_TOKEN: API_TOKEN,
    });
    cliOutputs.push(status.stdout, status.stderr);
    const failedJobs = await record(
      `/ui/api/queues?activeQueue=${SHARD_QUEUE}&status=failed&page=1&jobsPerPage=50`,
    );
    expect(failedJobs.text).toContain('failedReason');
  }, 180_000);

  it('no secret in any API/UI answer, log line or queue key', async () => {
    const plans = await record('/v1/plans');
    for (const item of plans.body.plans as Array<{ id: string }>) await record(`/v1/plans/${item.id}`);
    await record('/metrics');
    await record('/ui');
    await record(`/ui?token=${API_TOKEN}`, { token: null });
    for (const status of ['latest', 'active', 'waiting', 'completed', 'failed', 'delayed', 'paused']) {
      const jobs = await record(
        `/ui/api/queues?activeQueue=${SHARD_QUEUE}&status=${status}&page=1&jobsPerPage=50`,
      );
      const listed = (jobs.body.queues as Array<{ name: string; jobs: Array<{ id: string }> }>).find(
        (item) => item.name === SHARD_QUEUE,
      );
      for (const job of listed?.jobs ?? []) {
        await record(`/ui/api/queues/${SHARD_QUEUE}/${encodeURIComponent(job.id)}`);
        await record(`/ui/api/queues/${SHARD_QUEUE}/${encodeURIComponent(job.id)}/logs`);
      }
    }
    await record('/ui/api/redis/stats');

    const { keys, text: queueText } = await dumpEverything(queue.server.client());
    // The search covered the jobs and ShardBridge's own keys, and what it searched holds the references.
    expect(keys.some((key) => key.includes(`bull:${SHARD_QUEUE}:`))).toBe(true);
    expect(queueText).toContain('env:SB_LEAK_SOURCE_PASSWORD');
    expect(queueText).toContain('env:SB_LEAK_FLAKY_PASSWORD');
    expect(queueText).toContain('WRONGPASS');

    const logs = [coordinator, worker].map((cli) => `${cli.stdout()}\n${cli.stderr()}`).join('\n');
    // The logs of both processes (at debug level), with requests and the failed shard in them.
    expect(logs).toContain('request completed');
    expect(logs).toContain('full resync');
    expect(logs).toContain('shard job failed');

    expectNoSecret('the queue Redis', queueText);
    expectNoSecret('the API and UI answers', answers.join('\n'), [API_TOKEN]);
    expectNoSecret('the logs', logs, [API_TOKEN]);
    expectNoSecret('shardbridge status and discover', cliOutputs.join('\n'), [API_TOKEN]);
  }, 120_000);
});
