import { describe, expect, it } from 'vitest';
import { StreamLag } from './stream-lag.js';

describe('StreamLag', () => {
  // Arrivals within one synchronous run share a clock reading: each step of time ends the run.
  const later = () => Promise.resolve();

  it('ages the oldest unconfirmed byte from its arrival, to within the resolution, and is 0 once confirmed', async () => {
    let now = 1000;
    const lag = new StreamLag(10, () => now);
    lag.arrived(100); // bytes 100.. arrive at 1000
    await later();
    now = 1005;
    lag.arrived(150); // inside the resolution: not sampled
    await later();
    now = 1020;
    lag.arrived(200);
    now = 1100;
    expect(lag.ageMs(100, 250)).toBe(100);
    expect(lag.ageMs(150, 250)).toBe(100); // byte 150 arrived within 10 ms of the sample at 1000
    expect(lag.ageMs(200, 250)).toBe(80);
    expect(lag.ageMs(250, 250)).toBe(0);
  });

  it("counts what the source holds and the worker has not read, from the time the source's offset was sampled", () => {
    let now = 0;
    const lag = new StreamLag(10, () => now);
    lag.sourceHead(500);
    now = 300;
    expect(lag.ageMs(200, 200)).toBe(300);
    expect(lag.unreadBytes(200)).toBe(300);
    expect(lag.ageMs(500, 500)).toBe(0);
    expect(lag.unreadBytes(600)).toBe(0);
  });

  it('reads the clock once per synchronous run of arrivals', async () => {
    let reads = 0;
    const lag = new StreamLag(10, () => (reads += 1) * 1000);
    for (let i = 0; i < 100; i++) lag.arrived(i * 10);
    await later();
    lag.arrived(5000);
    expect(reads).toBe(2);
  });

  it('stays bounded on a long lag by thinning its samples', async () => {
    let now = 0;
    const lag = new StreamLag(1, () => now);
    for (let i = 0; i < 100_000; i++) {
      now += 1;
      await later();
      lag.arrived(i * 10);
    }
    expect(lag.ageMs(0, 1_000_000)).toBe(now - 1);
    // byte 500000 arrived at 50001: the thinned samples still place it within their (coarser) resolution
    expect(lag.ageMs(500_000, 1_000_000)).toBeGreaterThanOrEqual(now - 50_001);
    expect(lag.ageMs(500_000, 1_000_000)).toBeLessThanOrEqual(now - 50_001 + 100);
  });

  it('ages unread bytes from the first source sample ahead of the worker, not the newest one', () => {
    let now = 0;
    const lag = new StreamLag(10, () => now);
    lag.arrived(0);
    lag.sourceHead(1000);
    now = 100;
    lag.sourceHead(2000);
    now = 150;
    // Everything received (500) is confirmed; the source held byte 1000 unread since t=0 at least.
    expect(lag.ageMs(500, 500)).toBe(150);
    // Read through the first sample: the newer one (t=100) speaks for what is still unread.
    expect(lag.ageMs(1500, 1500)).toBe(50);
    expect(lag.ageMs(2000, 2000)).toBe(0);
  });
});
