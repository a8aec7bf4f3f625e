import { describe, expect, it } from 'vitest';
import { FlowWindow, WINDOW_DEFAULTS } from './flow-window.js';

/**
 * Drives one round: the probe goes out at `now`, the window is filled (the source has more than it allows) and
 * `confirmed` commands of 100 bytes are answered before the probe's reply arrives `rttMs` later.
 */
function round(window: FlowWindow, now: number, rttMs: number, confirmed: number): number {
  expect(window.takeProbe(now)).toBe(true);
  expect(window.takeProbe(now)).toBe(false); // one probe at a time
  window.hasRoom(window.commands, 0);
  window.confirmed(confirmed, confirmed * 100);
  window.probeAnswered(now + rttMs);
  return now + rttMs;
}

describe('FlowWindow', () => {
  it('starts at 1,000 commands / 16 MiB and doubles per round trip up to its maximums on a long link', () => {
    const window = new FlowWindow({ maxCommands: 50_000, maxBytes: 64 * 1024 * 1024 });
    expect(window.commands).toBe(WINDOW_DEFAULTS.floorCommands);
    expect(window.bytes).toBe(WINDOW_DEFAULTS.floorBytes);
    let now = 0;
    // An 80 ms link that carries whatever is in flight: each round confirms the whole window.
    for (let i = 0; i < 7; i++) now = round(window, now, 80, window.commands);
    expect(window.commands).toBe(50_000);
    expect(window.bytes).toBe(64 * 1024 * 1024);
    expect(window.state(0).minRttMs).toBe(80);
    // At the ceiling the rate stops rising: the bytes (not what binds here) go back to what the rate needs.
    for (let i = 0; i < 3; i++) now = round(window, now, 80, window.commands);
    expect(window.commands).toBe(50_000);
    expect(window.bytes).toBe(16 * 1024 * 1024);
  });

  it('never grows the byte window on a short link (big values on loopback): memory stays where it started', () => {
    const window = new FlowWindow();
    let now = 0;
    let largest = window.bytes;
    for (let i = 0; i < 30; i++) {
      window.takeProbe(now);
      window.hasRoom(10, window.bytes); // a few big RESTOREs fill the bytes, not the commands
      window.confirmed(10, window.bytes);
      window.probeAnswered((now += 3));
      largest = Math.max(largest, window.bytes);
    }
    expect(largest).toBe(WINDOW_DEFAULTS.floorBytes);
  });

  it('grows on a short link whose round trips a busy worker stretches, while the rate keeps rising', () => {
    const window = new FlowWindow();
    let now = round(window, 0, 20, 1000); // the link: 20 ms
    // The worker's own event loop answers the probes 15–25 ms late; the target confirms the whole window each time.
    for (let i = 0; i < 4; i++) now = round(window, now, 35 + (i % 2) * 10, window.commands);
    expect(window.commands).toBeGreaterThanOrEqual(16_000);
  });

  it('does not grow while the source sends less than the window', () => {
    const window = new FlowWindow();
    let now = 0;
    for (let i = 0; i < 10; i++) {
      window.takeProbe(now);
      window.confirmed(10, 1000);
      window.probeAnswered((now += 80));
    }
    expect(window.commands).toBe(1000);
  });

  it('stops growing when doubling no longer raises the confirmed rate (the target is the limit)', () => {
    const window = new FlowWindow();
    let now = 0;
    // a short link where the target confirms 2,000 commands per ms whatever the window
    for (let i = 0; i < 12; i++) now = round(window, now, 1, 2000);
    expect(window.commands).toBeLessThanOrEqual(8000);
    expect(window.state(0).shrinks).toBeGreaterThan(0);
  });

  it('shrinks to twice the measured bandwidth-delay product when the round trip inflates, not below the start', () => {
    const window = new FlowWindow();
    let now = 0;
    for (let i = 0; i < 6; i++) now = round(window, now, 80, window.commands);
    expect(window.commands).toBe(64_000);
    // The target slows down: 400 ms round trips confirming 20,000 commands = 50/ms; 2 × 50/ms × 80 ms = 8,000.
    now = round(window, now, 400, 20_000);
    expect(window.commands).toBe(8000);
    expect(window.hasRoom(8000, 0)).toBe(false);
    // slower still: never below where it started
    round(window, now, 2000, 100);
    expect(window.commands).toBe(1000);
  });

  it('counts a probe unanswered for long as a slow round trip (a paused target answers nothing)', () => {
    const window = new FlowWindow();
    let now = 0;
    for (let i = 0; i < 6; i++) now = round(window, now, 80, window.commands);
    expect(window.commands).toBe(64_000);
    window.takeProbe(now);
    window.tick(now + 100); // within 2 × 80 + 20 ms: nothing yet
    expect(window.commands).toBe(64_000);
    window.tick(now + 5000);
    expect(window.commands).toBe(1000);
    // its late reply is not a second sample
    window.probeAnswered(now + 6000);
    expect(window.state(0).shrinks).toBe(1);
  });

  it('is fixed at its maximums when not adaptive, and always admits one command', () => {
    const window = new FlowWindow({ maxCommands: 10, maxBytes: 100, adaptive: false });
    expect([window.commands, window.bytes]).toEqual([10, 100]);
    expect(window.takeProbe(0)).toBe(false);
    expect(window.hasRoom(0, 0)).toBe(true);
    expect(window.hasRoom(9, 99)).toBe(true);
    expect(window.hasRoom(10, 0)).toBe(false);
    expect(window.hasRoom(1, 100)).toBe(false);
    expect(new FlowWindow({ maxBytes: 1 }).hasRoom(0, 1_000_000)).toBe(true);
  });
});
