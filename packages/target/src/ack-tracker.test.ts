import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';

describe('AckTracker', () => {
  it('starts at the resume point', () => {
    expect(new AckTracker().acknowledged).toBe(-1);
    const t = new AckTracker(500, 3);
    expect(t.acknowledged).toBe(500);
    expect(t.acknowledgedDb).toBe(3);
  });

  it('advances only over a completed prefix', () => {
    const t = new AckTracker();
    const a = t.push(10, 0, false);
    const b = t.push(20, 0, false);
    const c = t.push(30, 1, false);
    expect(t.complete(b)).toBe(false);
    expect(t.complete(c)).toBe(false);
    expect(t.acknowledged).toBe(-1);
    expect(t.complete(a)).toBe(true);
    expect(t.acknowledged).toBe(30);
    expect(t.acknowledgedDb).toBe(1);
    expect(t.size).toBe(0);
  });

  it('entries without an offset hold the prefix but do not set it', () => {
    const t = new AckTracker();
    const restore1 = t.push(-1, 0, false);
    const restore2 = t.push(-1, 0, false);
    t.push(100, 0, true); // barrier after the RDB
    expect(t.acknowledged).toBe(-1);
    t.complete(restore1);
    expect(t.acknowledged).toBe(-1);
    t.complete(restore2);
    expect(t.acknowledged).toBe(100);
  });

  it('complete entries advance at once when nothing is pending, and merge behind a pending one', () => {
    const t = new AckTracker(5);
    t.push(7, 0, true);
    expect(t.acknowledged).toBe(7);
    const w = t.push(9, 0, false);
    t.push(11, 0, true);
    t.push(13, 2, true);
    expect(t.size).toBe(2);
    t.complete(w);
    expect(t.acknowledged).toBe(13);
    expect(t.acknowledgedDb).toBe(2);
  });

  it('a failed write (never completed) stops the prefix for good', () => {
    const t = new AckTracker();
    const a = t.push(1, 0, false);
    t.push(2, 0, false); // fails: never completed
    const c = t.push(3, 0, false);
    t.complete(c);
    t.complete(a);
    expect(t.acknowledged).toBe(1);
  });

  it('grows past its initial capacity and keeps order under random completion', () => {
    const t = new AckTracker(-1, 0, 16);
    const seqs: number[] = [];
    for (let i = 1; i <= 5000; i++) seqs.push(t.push(i * 10, i % 16, false));
    // deterministic shuffle
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const order = [...seqs];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const completed = new Set<number>();
    let prefix = 0;
    for (const s of order) {
      t.complete(s);
      completed.add(s);
      while (completed.has(seqs[prefix])) prefix++;
      expect(t.acknowledged).toBe(prefix === 0 ? -1 : prefix * 10);
    }
    expect(t.acknowledged).toBe(50000);
    expect(t.acknowledgedDb).toBe(5000 % 16);
  });

  it('rebases to a new resume point while writes of the previous link are pending', () => {
    const t = new AckTracker();
    const old = t.push(500, 0, false);
    t.rebase(200, 2);
    expect(t.acknowledged).toBe(200);
    expect(t.acknowledgedDb).toBe(2);
    const next = t.push(230, 2, false);
    t.complete(next);
    expect(t.acknowledged).toBe(200); // still behind the old write
    t.complete(old);
    expect(t.acknowledged).toBe(230); // the old write's offset 500 belonged to the old link
  });

  it('rejects unknown sequence numbers', () => {
    const t = new AckTracker();
    expect(() => t.complete(0)).toThrow(/unknown entry/);
  });
});
