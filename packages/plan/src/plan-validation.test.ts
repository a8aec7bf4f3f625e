import { describe, expect, it } from 'vitest';
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
    expect(fields).toEqual(['name', 'source', 'target']);
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
