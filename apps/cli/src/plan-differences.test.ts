import { describe, expect, it } from 'vitest';
import { planDifferences } from './plan-differences.js';

describe('planDifferences', () => {
  const stored = {
    name: 'orders',
    source: { type: 'standalone', seeds: ['10.0.0.5:6379'], password: 'env:SRC' },
    target: { type: 'standalone', seeds: ['10.1.0.7:6379'] },
  };

  it('finds nothing between equal plans, whatever the key order', () => {
    const reordered = {
      target: { seeds: ['10.1.0.7:6379'], type: 'standalone' },
      source: { password: 'env:SRC', seeds: ['10.0.0.5:6379'], type: 'standalone' },
      name: 'orders',
    };
    expect(planDifferences(stored, reordered)).toEqual([]);
  });

  it('names each differing field by its dotted path', () => {
    const changed = {
      ...stored,
      target: { type: 'standalone', seeds: ['127.0.0.1:7000'] },
      mode: 'full',
      source: { ...stored.source, password: undefined },
    };
    expect(planDifferences(stored, changed)).toEqual(['mode', 'source.password', 'target.seeds']);
  });
});
