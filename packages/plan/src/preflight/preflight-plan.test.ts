import {
  proxyCluster,
  startCluster,
  startRedis,
  type ClusterProxies,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../plan-validation.js';
import type { Plan, PlanInput } from '../plan-schema.js';
import { formatPreflightReport } from './format-report.js';
import { preflightPlan } from './preflight-plan.js';
import { PREFLIGHT_KEY_PREFIX } from './target-checks.js';

/** The testkit's ioredis-shaped NAT map as a plan's `natMap`. */
function planNatMap(map: Record<string, { host: string; port: number }>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).map(([announced, { host, port }]) => [announced, `${host}:${port}`]),
  );
}

const address = (server: RedisServer) => `${server.host}:${server.port}`;

describe('preflightPlan: NAT-announcing source and target clusters', () => {
  let source: RedisCluster;
  let target: RedisCluster;
  let proxies: ClusterProxies;
  let masters: RedisServer[];

  function plan(
    overrides: { source?: Partial<PlanInput['source']>; target?: Partial<PlanInput['target']> } = {},
  ): Plan {
    return parsePlan({
      name: 'preflight',
      source: {
        type: 'cluster',
        seeds: [address(source.nodes[0])],
        password: 'pw',
        natMap: planNatMap(source.natMap()),
        ...overrides.source,
      },
      target: {
        type: 'cluster',
        seeds: [target.announced(target.nodes[1])],
        natRules: [{ match: '*.internal.invalid', host: '127.0.0.1', port: 'same' }],
        ...overrides.target,
      },
    });
  }

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startCluster({ masters: 3, announceHostnames: true, password: 'pw' }),
      startCluster({ masters: 3, announceHostnames: true }),
    ]);
    proxies = await proxyCluster(source);
    masters = await source.masters();
  });
  afterAll(async () => {
    await proxies?.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('reports every shard and target master, all green, and leaves no key behind', async () => {
    const report = await preflightPlan(plan());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.source.shards).toHaveLength(3);
    for (const [index, shard] of report.source.shards.entries()) {
      expect(shard).toMatchObject({
        nodeId: await source.nodeId(masters[index]),
        role: 'master',
        announced: source.announced(masters[index]),
        reachable: address(masters[index]),
        mappedBy: 'natMap',
        auth: 'ok',
        version: expect.stringMatching(/^\d+\.\d+/),
        psync: 'permitted',
        replconf: 'permitted',
        replBacklogSize: expect.any(Number),
        error: null,
      });
      expect(shard.connectMs).toBeGreaterThanOrEqual(0);
      expect(shard.rdbVersion).toBeGreaterThanOrEqual(10);
    }
    expect(report.source.shards.map((shard) => shard.slots).flat()).toHaveLength(3);
    expect(report.target.slotsCovered).toBe(16384);
    expect(report.target.nodes.map((node) => [node.mappedBy, node.writable, node.auth])).toEqual([
      ['natRule', true, 'not-required'],
      ['natRule', true, 'not-required'],
      ['natRule', true, 'not-required'],
    ]);
    for (const node of target.nodes) {
      expect(await node.client().keys(`${PREFLIGHT_KEY_PREFIX}*`)).toEqual([]);
    }
    const text = formatPreflightReport(report);
    expect(text).toContain('psync');
    expect(text).toContain(source.announced(masters[1]));
    expect(text).toContain('16384/16384 slots covered');
    expect(text).toMatch(/^OK: preflight took \d+ ms$/m);
  });

  it('names the one unmapped source master with the exact natMap line to add', async () => {
    const natMap = planNatMap(source.natMap());
    const missing = source.announced(masters[1]);
    delete natMap[missing];
    const report = await preflightPlan(plan({ source: { natMap } }), { connectTimeoutMs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({
      side: 'source',
      address: missing,
      code: 'PREFLIGHT_UNREACHABLE',
      fix: `if this host cannot dial ${missing}, add to source.natMap: "${missing}": "<reachable-host>:<port>"`,
    });
    expect(report.problems[0].message).toContain(`source master ${missing} (slots `);
    expect(report.source.shards[1]).toMatchObject({
      mappedBy: 'identity',
      auth: 'not-checked',
      connectMs: null,
    });
    expect(report.source.shards[1].error).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(report.source.shards[0].error).toBeNull();
    expect(formatPreflightReport(report)).toContain(`fix: if this host cannot dial ${missing}`);
  });

  it('bounds a blackholed master: 6 nodes in under 10 s with the default 5 s timeout', async () => {
    const natMap = planNatMap(proxies.natMap());
    const victim = proxies.proxyOf(masters[2]);
    victim.blackhole(true);
    try {
      const started = performance.now();
      const report = await preflightPlan(plan({ source: { natMap } }));
      const elapsed = performance.now() - started;
      expect(elapsed).toBeLessThan(10_000);
      expect(report.ok).toBe(false);
      expect(report.problems.map((problem) => [problem.code, problem.address])).toEqual([
        ['PREFLIGHT_UNREACHABLE', source.announced(masters[2])],
      ]);
      expect(report.problems[0].fix).toContain(`correct source.natMap["${source.announced(masters[2])}"]`);
      expect(report.source.shards[2].error).toMatch(/timed? ?out|no answer within/i);
      expect(report.target.nodes.every((node) => node.writable)).toBe(true);
    } finally {
      victim.blackhole(false);
      victim.cutAll();
    }
  }, 20_000);

  it('finds source nodes through natDiscover, and reports a target master it cannot reach', async () => {
    const natDiscover = source.nodes.map((node) => `127.0.0.1:${proxies.proxyOf(node).port}`);
    const unreachable = target.announced(target.nodes[2]);
    const report = await preflightPlan(
      plan({
        source: { natMap: undefined, seeds: [source.announced(source.nodes[0])], natDiscover },
        target: {
          seeds: [address(target.nodes[0])],
          natRules: [
            {
              match: target.nodes[2] ? `node-2.internal.invalid` : 'x',
              host: '127.0.0.1',
              port: { offset: 1 },
            },
            { match: '*.internal.invalid', host: '127.0.0.1', port: 'same' },
          ],
        },
      }),
      { connectTimeoutMs: 2000 },
    );
    expect(report.source.shards.map((shard) => shard.mappedBy)).toEqual([
      'natDiscover',
      'natDiscover',
      'natDiscover',
    ]);
    const codes = report.problems.map((problem) => [problem.side, problem.code, problem.address]);
    expect(codes).toContainEqual(['target', 'PREFLIGHT_UNREACHABLE', unreachable]);
    expect(codes).toContainEqual(['target', 'PREFLIGHT_TARGET_SLOTS_UNCOVERED', address(target.nodes[0])]);
    expect(report.problems.find((problem) => problem.address === unreachable)?.fix).toContain(
      'correct target.natRules[0]',
    );
    expect(report.target.slotsCovered).toBeLessThan(16384);
    expect(report.source.shards.every((shard) => shard.error === null)).toBe(true);
  });

  it('reports refused credentials per node and a source seed nothing answers at', async () => {
    const wrong = await preflightPlan(plan({ source: { password: 'nope' } }), { connectTimeoutMs: 2000 });
    expect(wrong.problems.map((problem) => problem.code)).toEqual(['DISCOVERY_AUTH']);
    const nowhere = await preflightPlan(plan({ source: { seeds: ['127.0.0.1:1'] } }), {
      connectTimeoutMs: 2000,
    });
    expect(nowhere.problems[0]).toMatchObject({ side: 'source', code: 'DISCOVERY_NO_SEED' });
    expect(nowhere.problems[0].message).toContain('127.0.0.1:1');
  });
});

describe('preflightPlan: standalone source and targets', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let renamed: RedisServer;
  beforeAll(async () => {
    master = await startRedis({
      config: { user: ['limited', 'on', '>lpw', '~*', '&*', '+@all', '-psync'] },
    });
    [replica, renamed] = await Promise.all([
      startRedis({ config: { replicaof: `${master.host} ${master.port}` } }),
      startRedis({ config: { 'rename-command': ['PSYNC', ''] } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([master?.stop(), replica?.stop(), renamed?.stop()]);
  });

  const standalonePlan = (src: Partial<PlanInput['source']>, tgt: Partial<PlanInput['target']>) =>
    parsePlan({
      name: 'standalone',
      source: { type: 'standalone', seeds: [address(master)], ...src },
      target: { type: 'standalone', seeds: [address(master)], ...tgt },
    });

  it('a standalone master as source and as writable target', async () => {
    const report = await preflightPlan(standalonePlan({}, {}));
    expect(report.problems).toEqual([]);
    expect(report.source.shards[0]).toMatchObject({
      nodeId: null,
      slots: [[0, 16383]],
      mappedBy: 'seed',
      role: 'master',
    });
    expect(report.target).toMatchObject({ slotsCovered: null, nodes: [{ writable: true, role: 'master' }] });
  });

  it('a replica as target is not writable; a replica as source is not a master', async () => {
    const report = await preflightPlan(
      standalonePlan({ seeds: [address(replica)] }, { seeds: [address(replica)] }),
    );
    expect(report.target.nodes[0].writable).toBe(false);
    const byCode = new Map(report.problems.map((problem) => [problem.code, problem]));
    expect(byCode.get('PREFLIGHT_TARGET_NOT_WRITABLE')?.message).toContain('READONLY');
    expect(byCode.get('PREFLIGHT_TARGET_NOT_WRITABLE')?.fix).toContain('master');
    expect(byCode.get('PREFLIGHT_NOT_MASTER')?.side).toBe('source');
  });

  it('PSYNC denied by ACL or renamed away: suggests scan mode', async () => {
    const acl = await preflightPlan(standalonePlan({ username: 'limited', password: 'lpw' }, {}));
    expect(acl.source.shards[0]).toMatchObject({ psync: 'forbidden', replconf: 'permitted', auth: 'ok' });
    expect(acl.problems).toEqual([expect.objectContaining({ code: 'PREFLIGHT_PSYNC_FORBIDDEN' })]);
    expect(acl.problems[0].fix).toContain('scan mode');
    const gone = await preflightPlan(standalonePlan({ seeds: [address(renamed)] }, {}));
    expect(gone.source.shards[0].psync).toBe('forbidden');
    expect(gone.problems.map((problem) => problem.code)).toEqual(['PREFLIGHT_PSYNC_FORBIDDEN']);
  });

  it('scan mode: a source that forbids PSYNC is reported as such, but is no problem', async () => {
    const report = await preflightPlan(
      parsePlan({
        name: 'scan',
        mode: 'scan',
        source: { type: 'standalone', seeds: [address(renamed)] },
        target: { type: 'standalone', seeds: [address(master)] },
      }),
    );
    expect(report.source.shards[0].psync).toBe('forbidden');
    expect(report.problems).toEqual([]);
  });
});
