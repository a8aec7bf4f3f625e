import { describe, expect, it } from 'vitest';
import { formatPlanIssues } from './plan-issues.js';
import { parsePlan, parsePlanText, PlanValidationError } from './plan-validation.js';
import { parseHostPort } from './host-port.js';

const valid = {
  name: 'orders',
  source: { type: 'standalone', seeds: ['10.0.0.5:6379'], password: 'env:SRC_PASS' },
  target: { type: 'cluster', seeds: ['127.0.0.1:7000', '[::1]:7001'] },
};

function issuesOf(input: unknown) {
  try {
    parsePlan(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanValidationError);
    return (error as PlanValidationError).issues;
  }
  throw new Error('expected the plan to be refused');
}

describe('parsePlan', () => {
  it('accepts a valid plan and fills defaults', () => {
    const plan = parsePlan(valid);
    expect(plan.source.tls).toBe(false);
    expect(plan.target.seeds).toHaveLength(2);
  });

  it('names the field and the reason', () => {
    const issues = issuesOf({ ...valid, source: { ...valid.source, seeds: ['nohost'] } });
    expect(issues).toEqual([{ field: 'source.seeds[0]', reason: expect.stringContaining('host:port') }]);
  });

  it('refuses unknown fields, a missing target and a bad name at once', () => {
    const issues = issuesOf({ name: 'a b', source: { ...valid.source, colour: 'red' } });
    const fields = issues.map((issue) => issue.field).sort();
    expect(fields).toEqual(['name', 'source.colour', 'target']);
  });

  it('says a missing field is required, in plain words', () => {
    const issues = issuesOf({ source: { type: 'standalone' }, target: valid.target });
    expect(issues).toEqual([
      { field: 'name', reason: 'is required' },
      { field: 'source.seeds', reason: 'is required' },
    ]);
    expect(issuesOf({ ...valid, target: undefined })).toEqual([{ field: 'target', reason: 'is required' }]);
  });

  it('lists the accepted source types when type is missing or wrong, and names each unknown key', () => {
    expect(issuesOf({ ...valid, source: { seeds: ['a:1'] } })).toEqual([
      { field: 'source.type', reason: 'is required: one of "standalone", "cluster", "rdb"' },
    ]);
    expect(issuesOf({ ...valid, source: { ...valid.source, type: 'sentinel' } })).toEqual([
      { field: 'source.type', reason: 'expected one of "standalone", "cluster", "rdb"' },
    ]);
    expect(issuesOf({ ...valid, target: { ...valid.target, colour: 1, size: 2 } })).toEqual([
      { field: 'target.colour', reason: expect.stringMatching(/^is not a known field/) },
      { field: 'target.size', reason: expect.stringMatching(/^is not a known field/) },
    ]);
  });

  it('formats every problem as one line: file, field, reason', () => {
    const issues = issuesOf({ ...valid, name: undefined, source: { ...valid.source, seeds: ['nohost'] } });
    expect(formatPlanIssues('plans/orders.json', issues)).toEqual([
      'plans/orders.json: name: is required',
      expect.stringMatching(/^plans\/orders\.json: source\.seeds\[0\]: expected "host:port"/),
    ]);
  });

  it('reports JSON syntax errors as plan errors', () => {
    expect(() => parsePlanText('{"name": ')).toThrow(/not valid JSON/);
  });
});

describe('parseHostPort', () => {
  it('parses hostnames, IPv4 and bracketed IPv6', () => {
    expect(parseHostPort('node-1.internal.invalid:6379')).toEqual({
      host: 'node-1.internal.invalid',
      port: 6379,
    });
    expect(parseHostPort('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseHostPort('127.0.0.1:0')).toBeNull();
    expect(parseHostPort('::1:7000')).toBeNull();
  });
});
