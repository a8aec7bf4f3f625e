import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('never lets more than rate × T + burst + one take through, whatever the take sizes', () => {
    const bucket = new TokenBucket(1000, 0.1, 0);
    let now = 0;
    let taken = 0;
    const sizes = [1, 7, 250, 3, 64, 1, 999];
    for (let i = 0; now < 10_000; i++) {
      const size = sizes[i % sizes.length];
      taken += size;
      now += bucket.take(size, now);
    }
    expect(taken).toBeLessThanOrEqual(1000 * 10 + 100 + 999);
  });

  it('goes into debt on a take bigger than its capacity and says how long to wait', () => {
    const bucket = new TokenBucket(100, 0.1, 0);
    expect(bucket.take(10, 0)).toBe(0);
    expect(bucket.take(50, 0)).toBe(500); // 50 tokens of debt at 100/s
    expect(bucket.waitMs(250)).toBe(250);
    expect(bucket.waitMs(500)).toBe(0);
  });

  it('keeps its debt across a rate change and pays it at the new rate', () => {
    const bucket = new TokenBucket(100, 0.1, 0);
    bucket.take(110, 0); // 100 tokens of debt
    bucket.setRate(1000, 0);
    expect(bucket.waitMs(0)).toBe(100);
  });
});
