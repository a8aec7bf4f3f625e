import { describe, expect, it } from 'vitest';
import type { KeyVerdict } from './key-compare.js';
import { mapWithLimit, recheckRounds, type Suspect } from './recheck-rounds.js';

const verdict: KeyVerdict = {
  kind: 'value',
  source: { type: 'string', ttlMs: -1 },
  target: { type: 'string', ttlMs: -1 },
};
const suspect = (key: string): Suspect => ({ db: 0, key: Buffer.from(key), verdict });

describe('recheckRounds', () => {
  it('keeps only keys that differ in every round, and stops early once none is left', async () => {
    const checks: string[] = [];
    // `settles` agrees from the second round on, `stays` never does.
    const compare = async (_db: number, key: Buffer) => {
      checks.push(key.toString());
      return key.toString() === 'stays' ? { ...verdict, detail: 'latest' } : null;
    };
    const { remaining, roundsRun } = await recheckRounds([suspect('settles'), suspect('stays')], {
      rounds: 3,
      delayMs: 1,
      concurrency: 4,
      compare,
    });
    expect(roundsRun).toBe(3);
    expect(remaining.map((entry) => entry.key.toString())).toEqual(['stays']);
    expect(remaining[0].verdict.detail).toBe('latest');
    expect(checks).toEqual(['settles', 'stays', 'stays']);

    const settled = await recheckRounds([suspect('settles')], {
      rounds: 5,
      delayMs: 1,
      concurrency: 1,
      compare,
    });
    expect(settled).toEqual({ remaining: [], roundsRun: 2 });
    expect(await recheckRounds([], { rounds: 3, delayMs: 1, concurrency: 1, compare })).toEqual({
      remaining: [],
      roundsRun: 1,
    });
  });

  it('mapWithLimit keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
