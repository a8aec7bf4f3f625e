import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { parsePlan, PlanValidationError } from './plan-validation.js';

const base = {
  name: 'p',
  source: { type: 'cluster', seeds: ['10.0.0.1:7000'] },
  target: { type: 'standalone', seeds: ['127.0.0.1:6379'] },
};

describe('plan schema: NAT, TLS, manual shards, rollout', () => {
  it('keeps a minimal plan valid, with defaults', () => {
    const plan = parsePlan(base);
    expect(plan.source.tls).toBe(false);
    expect(plan.source.readFrom).toBe('master');
    expect(plan.rollout).toBeUndefined();
  });

  it('accepts natRules, natDiscover, shards, readFrom, TLS objects, rollout and force', () => {
    const plan = parsePlan({
      ...base,
      source: {
        ...base.source,
        natRules: [
          { match: '10.0.0.0/8', host: '203.0.113.7', port: { offset: 10000 } },
          { match: 'fd00::/8', host: '::1' },
          { match: '*.internal.example', host: 'gw', port: { map: { '6379': 16379 } } },
          { match: 'node-a', host: 'gw', port: 'same' },
        ],
        natDiscover: ['203.0.113.7:17000', '[::1]:7001'],
        shards: [{ reachable: 'gw:1' }, { reachable: 'gw:2', slots: [[0, 100]] }],
        readFrom: 'prefer-replica',
        tls: { ca: 'file:/etc/ca.pem', servername: 'redis.internal', rejectUnauthorized: true },
      },
      target: { ...base.target, tls: true, natRules: [{ match: '127.0.0.1', host: 'localhost' }] },
      rollout: { canary: 1, healthyFor: '2m', maxLagMs: 1000 },
      force: true,
    });
    expect(plan.source.natRules?.[1].port).toBe('same');
    expect(plan.rollout?.healthyFor).toBe(120_000);
    expect(plan.target.tls).toBe(true);
  });

  it('names each bad field', () => {
    try {
      parsePlan({
        ...base,
        source: {
          ...base.source,
          natRules: [{ match: '10.0.0.0/33', host: 'h' }],
          natDiscover: ['nope'],
          shards: [{ reachable: 'gw:1', slots: [[5, 1]] }],
          readFrom: 'any',
        },
        rollout: { canary: 0, healthyFor: 'soon', maxLagMs: 1 },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlanValidationError);
      const fields = (error as PlanValidationError).issues.map((issue) => issue.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'source.natRules[0].match',
          'source.natDiscover[0]',
          'source.shards[0].slots[0]',
          'source.readFrom',
          'rollout.canary',
          'rollout.healthyFor',
        ]),
      );
    }
  });

  it('accepts target.window and names a budget too small or an unknown field', () => {
    const window = { maxCommands: 50_000, maxBytes: 33_554_432, adaptive: false };
    expect(parsePlan({ ...base, target: { ...base.target, window } }).target.window).toEqual(window);
    const bad = () =>
      parsePlan({ ...base, target: { ...base.target, window: { maxBytes: 1000, depth: 3 } } });
    expect(bad).toThrow(PlanValidationError);
    expect(bad).toThrow(/target\.window\.maxBytes/);
    expect(bad).toThrow(/target\.window/);
  });

  it('accepts an RDB-file source with a path, and nothing a live source has', () => {
    const plan = parsePlan({ ...base, source: { type: 'rdb', path: '/backups/dump.rdb' } });
    expect(plan.source).toEqual({ type: 'rdb', path: '/backups/dump.rdb' });
    for (const source of [
      { type: 'rdb' },
      { type: 'rdb', path: '' },
      { type: 'rdb', path: '/d.rdb', seeds: ['10.0.0.1:6379'] },
    ]) {
      expect(() => parsePlan({ ...base, source })).toThrow(PlanValidationError);
    }
  });
});

describe('parseDuration', () => {
  it('parses ms, s, m, h and bare ms', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('40')).toBe(40);
    expect(parseDuration('-1s')).toBeNull();
    expect(parseDuration('1d')).toBeNull();
  });
});
