import { describe, expect, it } from 'vitest';
import { parsePlan, PlanValidationError } from './plan-validation.js';
import { syncSettingsOf } from './shard-job.js';
import { nonEmptyDbs } from './preflight/keyspace-checks.js';

const base = {
  name: 'p',
  source: { type: 'standalone', seeds: ['10.0.0.1:6379'] },
  target: { type: 'standalone', seeds: ['127.0.0.1:6379'] },
};

function issues(input: unknown): string[] {
  try {
    parsePlan(input);
  } catch (error) {
    if (error instanceof PlanValidationError) return error.issues.map((i) => `${i.field}: ${i.reason}`);
    throw error;
  }
  return [];
}

describe('plan: mode, targetMode, filter', () => {
  it('accepts every mode and target mode and a full filter; job data carries them', () => {
    const plan = parsePlan({
      ...base,
      mode: 'full',
      targetMode: 'skip-existing',
      filter: {
        dbs: { deny: [2] },
        keys: { prefixes: ['user:'], regex: '^cart:\\d+$', mode: 'allow' },
        commands: { deny: ['flushall'] },
        dbMap: { '3': 0 },
        multiKeyPolicy: 'split',
      },
    });
    expect(syncSettingsOf(plan)).toEqual({ mode: 'full', targetMode: 'skip-existing', filter: plan.filter });
    expect(syncSettingsOf(parsePlan(base))).toEqual({});
    for (const mode of ['sync', 'scan', 'rdb']) expect(parsePlan({ ...base, mode }).mode).toBe(mode);
  });

  it('flush-first needs confirm: true and a standalone source', () => {
    expect(issues({ ...base, targetMode: 'flush-first' })).toEqual([
      'confirm: targetMode "flush-first" deletes every key of the target: add "confirm": true to the plan',
    ]);
    expect(issues({ ...base, targetMode: 'flush-first', confirm: true })).toEqual([]);
    expect(
      issues({
        ...base,
        source: { type: 'cluster', seeds: ['a:1'] },
        targetMode: 'flush-first',
        confirm: true,
      }),
    ).toEqual([expect.stringMatching(/^targetMode: .*needs a standalone source/)]);
  });

  it('rejects bad filters with the field named', () => {
    expect(issues({ ...base, filter: { keys: { regex: '(' } } })[0]).toMatch(/^filter\.keys\.regex: /);
    expect(issues({ ...base, filter: { keys: { mode: 'deny' } } })[0]).toMatch(/give "prefixes" or "regex"/);
    expect(issues({ ...base, filter: { commands: { deny: ['select'] } } })[0]).toMatch(/cannot be denied/);
    expect(issues({ ...base, filter: { dbs: { allow: [1], deny: [2] } } })).not.toEqual([]);
    expect(issues({ ...base, mode: 'stream' })[0]).toMatch(/^mode: /);
  });

  it('a cluster target: dbMap values and allowed dbs must land in db 0', () => {
    const cluster = { ...base, target: { type: 'cluster', seeds: ['127.0.0.1:7000'] } };
    expect(issues({ ...cluster, filter: { dbMap: { '3': 1 } } })).toEqual([
      'filter.dbMap.3: a cluster target only has db 0: map db 3 to 0',
    ]);
    expect(issues({ ...cluster, filter: { dbs: { allow: [0, 3, 4] }, dbMap: { '3': 0 } } })).toEqual([
      'filter.dbs.allow: a cluster target only has db 0, but db(s) 4 are synced: map them with "dbMap": {"4": 0} or leave them out',
    ]);
    expect(issues({ ...cluster, filter: { dbs: { allow: [3] }, dbMap: { '3': 0 } } })).toEqual([]);
  });

  it('reads non-empty dbs from INFO keyspace', () => {
    const info = new Map([
      ['db0', 'keys=0,expires=0,avg_ttl=0'],
      ['db3', 'keys=12,expires=1,avg_ttl=5'],
      ['db10', 'keys=1,expires=0,avg_ttl=0'],
      ['dbx', 'keys=4'],
    ]);
    expect(nonEmptyDbs(info)).toEqual([3, 10]);
  });
});
