import { describe, expect, it } from 'vitest';
import { LagHistory, MAX_SAMPLES_PER_SHARD, type LagSample } from './lag-history.js';

const sample = (at: number, lagBytes = at): LagSample => ({
  at,
  lagBytes,
  lagMs: 0,
  opsPerSecond: 0,
  sourceOffset: at,
  acknowledgedOffset: at,
});

describe('LagHistory', () => {
  it('keeps windowMs / intervalMs + 1 samples per shard, oldest first, overwriting the oldest', () => {
    // sampled twice as often as the ring is sized for: it holds the newest 6
    const history = new LagHistory({ windowMs: 10_000, intervalMs: 2_000 });
    for (let at = 1_000; at <= 20_000; at += 1_000) history.record('p', 's0', sample(at));
    const kept = history.forPlan('p', 0, 20_000).s0;
    expect(kept.map((s) => s.at)).toEqual([15_000, 16_000, 17_000, 18_000, 19_000, 20_000]);
  });

  it('leaves out samples older than the window, and those up to `since`', () => {
    const history = new LagHistory({ windowMs: 10_000, intervalMs: 1_000 });
    for (const at of [1_000, 5_000, 9_000]) history.record('p', 's0', sample(at));
    expect(history.forPlan('p', 0, 14_000).s0.map((s) => s.at)).toEqual([5_000, 9_000]);
    expect(history.forPlan('p', 5_000, 14_000).s0.map((s) => s.at)).toEqual([9_000]);
    expect(history.forPlan('other', 0, 14_000)).toEqual({});
  });

  it('bounds a shard’s ring whatever the interval', () => {
    const history = new LagHistory({ windowMs: 3_600_000, intervalMs: 1 });
    for (let at = 1; at <= MAX_SAMPLES_PER_SHARD + 100; at++) history.record('p', 's0', sample(at));
    expect(history.forPlan('p', 0, MAX_SAMPLES_PER_SHARD + 100).s0).toHaveLength(MAX_SAMPLES_PER_SHARD);
  });

  it('forgets deleted plans and shards a plan no longer has', () => {
    const history = new LagHistory();
    history.record('kept', 'a', sample(1));
    history.record('kept', 'gone', sample(1));
    history.record('deleted', 'a', sample(1));
    history.retain(new Map([['kept', new Set(['a'])]]));
    expect(Object.keys(history.forPlan('kept', 0, 2))).toEqual(['a']);
    expect(history.forPlan('deleted', 0, 2)).toEqual({});
  });
});
