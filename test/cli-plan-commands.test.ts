import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { startQueueRedis } from './control-plane/support/cluster-data.js';
import { runCli } from './support/cli-process.js';
import {
  pollJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from './support/in-process-control-plane.js';
import { scratchDir } from './support/sync-harness.js';

// `shardbridge plans|stop|resume|retry|delete` against a real coordinator and worker (in this process), each run as
// the real binary: what an operator types instead of curl.

const PASSWORD_ENV = 'SB_CLI_COMMANDS_TARGET_PASS';

interface ShardView {
  id: string;
  phase: string;
  jobState: string;
}
interface PlanView {
  state: string;
  shards: ShardView[];
}

describe('shardbridge plans, stop, resume, retry, delete', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let locked: RedisServer;
  let plane: InProcessControlPlane;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let healthyId: string;
  let lockedId: string;

  const cli = (args: string[]) => runCli([...args, '--api', plane.url], {}, 120_000);
  const planOf = (id: string, done: (plan: PlanView) => boolean) =>
    pollJson<PlanView>(`${plane.url}/v1/plans/${id}`, done);

  async function submit(name: string, plan: unknown): Promise<string> {
    const file = join(scratch.path, `${name}.json`);
    await writeFile(file, JSON.stringify(plan));
    const result = await cli(['submit', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { id: string }).id;
  }

  beforeAll(async () => {
    scratch = await scratchDir();
    [queue, source, target, locked] = await Promise.all([
      startQueueRedis(),
      startRedis(),
      startRedis(),
      startRedis({ password: 'right-password' }),
    ]);
    await source.client().set('cli:key', 'value');
    // The worker runs in this process and resolves env: references here.
    process.env[PASSWORD_ENV] = 'wrong-password';
    plane = await startInProcessControlPlane(queue);
    const seeds = (server: RedisServer) => [`${server.host}:${server.port}`];
    healthyId = await submit('healthy', {
      name: 'cli-healthy',
      source: { type: 'standalone', seeds: seeds(source) },
      target: { type: 'standalone', seeds: seeds(target) },
    });
    lockedId = await submit('locked', {
      name: 'cli-locked',
      source: { type: 'standalone', seeds: seeds(source) },
      target: { type: 'standalone', seeds: seeds(locked), password: `env:${PASSWORD_ENV}` },
      // The preflight would refuse the password; this test wants the shard to fail at run time.
      force: true,
    });
    await planOf(healthyId, (plan) => plan.shards.every((shard) => shard.phase === 'incremental'));
    await planOf(lockedId, (plan) => plan.shards.every((shard) => shard.phase === 'failed'));
  }, 180_000);

  afterAll(async () => {
    delete process.env[PASSWORD_ENV];
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop(), locked?.stop()]);
    await scratch?.remove();
  });

  it('lists the plans: id, name, state, shard count and phases (and as JSON)', async () => {
    const table = await cli(['plans']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+SHARDS\s+PHASES\s+CREATED$/);
    expect(lines.find((line) => line.startsWith(healthyId))).toMatch(
      /cli-healthy\s+active\s+1\s+incremental 1\s+\d{4}-/,
    );
    expect(lines.find((line) => line.startsWith(lockedId))).toMatch(/cli-locked\s+active\s+1\s+failed 1/);
    const json = await cli(['plans', '--json']);
    const { plans } = JSON.parse(json.stdout) as { plans: Array<{ id: string; shardCount: number }> };
    expect(plans.map((plan) => plan.id)).toEqual(expect.arrayContaining([healthyId, lockedId]));
  });

  it('retries every failed shard of a plan once the cause is fixed', async () => {
    process.env[PASSWORD_ENV] = 'right-password';
    const retried = await cli(['retry', lockedId]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`shard ${lockedId}-0 queued again`);
    await planOf(lockedId, (plan) => plan.shards.every((shard) => shard.phase === 'incremental'));
    expect(await locked.client().get('cli:key')).toBe('value');
    const nothing = await cli(['retry', lockedId]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain(`plan ${lockedId} has no failed shard`);
  }, 120_000);

  it('stops a plan (status --watch exits once no shard runs) and resumes it', async () => {
    const stopped = await cli(['stop', healthyId]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`plan ${healthyId}: every shard told to stop`);
    const watched = await cli(['status', healthyId, '--watch']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain(`plan ${healthyId} (cli-healthy): stopped`);
    const view = await planOf(healthyId, () => true);
    expect(view.shards.every((shard) => shard.jobState !== 'active')).toBe(true);

    const resumed = await cli(['resume', healthyId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`plan ${healthyId} resumed`);
    await planOf(
      healthyId,
      (plan) => plan.state === 'active' && plan.shards.every((shard) => shard.phase === 'incremental'),
    );
  }, 120_000);

  it('deletes a running plan: waits for its shards to stop, then it is gone', async () => {
    const deleted = await cli(['delete', healthyId]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`plan ${healthyId} deleted`);
    const listed = await cli(['plans', '--json']);
    const { plans } = JSON.parse(listed.stdout) as { plans: Array<{ id: string }> };
    expect(plans.map((plan) => plan.id)).not.toContain(healthyId);
  }, 120_000);

  it('verify/cutover --result name the CLI command to start one, not an HTTP route', async () => {
    const verification = await cli(['verify', lockedId, '--result']);
    expect(verification.code).toBe(1);
    expect(verification.stderr.trim()).toMatch(
      new RegExp(
        `^error: plan "${lockedId}" has not been verified yet; start one with \`shardbridge verify ${lockedId}\` .*\\(VERIFICATION_NOT_FOUND\\)$`,
      ),
    );
    const cutover = await cli(['cutover', lockedId, '--result']);
    expect(cutover.code).toBe(1);
    expect(cutover.stderr.trim()).toMatch(
      /start one with `shardbridge cutover \w+` .*\(CUTOVER_NOT_FOUND\)$/,
    );
  });

  it('prints an API error as one line with its code and the CLI fix, exit 2 for an unknown plan', async () => {
    for (const args of [
      ['stop', 'nosuchplan'],
      ['status', 'nosuchplan'],
      ['retry', lockedId, '7'],
    ]) {
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^error: .* \((PLAN|SHARD)_NOT_FOUND\); list (the plans|its shards) with `shardbridge/,
      );
    }
  });
});
