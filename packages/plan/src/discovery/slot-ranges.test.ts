import { describe, expect, it } from 'vitest';
import { formatSlotRanges, mergeSlotRanges, missingSlotRanges } from './slot-ranges.js';

describe('mergeSlotRanges', () => {
  it('sorts and merges adjacent and overlapping ranges', () => {
    expect(
      mergeSlotRanges([
        [100, 200],
        [0, 10],
        [11, 20],
        [150, 300],
        [302, 302],
      ]),
    ).toEqual([
      [0, 20],
      [100, 300],
      [302, 302],
    ]);
  });

  it('keeps contained ranges inside and does not mutate its input', () => {
    const input: Array<[number, number]> = [
      [0, 100],
      [5, 6],
    ];
    expect(mergeSlotRanges(input)).toEqual([[0, 100]]);
    expect(input).toEqual([
      [0, 100],
      [5, 6],
    ]);
    expect(mergeSlotRanges([])).toEqual([]);
  });
});

describe('missingSlotRanges', () => {
  it('is empty for full coverage, however split', () => {
    expect(
      missingSlotRanges([
        [5461, 10922],
        [0, 5460],
        [10923, 16383],
      ]),
    ).toEqual([]);
  });

  it('names gaps at the start, middle and end', () => {
    expect(
      missingSlotRanges([
        [1, 99],
        [200, 16000],
      ]),
    ).toEqual([
      [0, 0],
      [100, 199],
      [16001, 16383],
    ]);
    expect(missingSlotRanges([])).toEqual([[0, 16383]]);
  });
});

describe('formatSlotRanges', () => {
  it('uses CLUSTER NODES notation', () => {
    expect(
      formatSlotRanges([
        [0, 5460],
        [7000, 7000],
      ]),
    ).toBe('0-5460,7000');
    expect(formatSlotRanges([])).toBe('(no slots)');
  });
});
