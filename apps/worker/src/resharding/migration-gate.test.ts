import { describe, expect, it } from 'vitest';
import type { BarrierOutcome, MigrationBarrier } from './migration-barrier.js';
import { MigrationGate } from './migration-gate.js';

const cmd = (...parts: string[]) => parts.map((part) => Buffer.from(part));

/** A barrier whose passes the test releases by hand (the queue-Redis one is tested with real Redis). */
class ManualBarrier implements MigrationBarrier {
  readonly passes: Array<(outcome: BarrierOutcome) => void> = [];
  pass(): Promise<BarrierOutcome> {
    return new Promise((resolve) => this.passes.push(resolve));
  }
  release(index: number, reached = true): void {
    this.passes[index]({ reached, waitedMs: 1, lagging: reached ? [] : ['p-0'], unknown: [] });
  }
}

function gateWith(barrier: MigrationBarrier, options: { room?: () => boolean; maxHeldBytes?: number } = {}) {
  const applied: string[] = [];
  const events: string[] = [];
  const gate = new MigrationGate(
    barrier,
    {
      deliver: (args, offset) => {
        applied.push(`${args.map(String).join(' ')}@${offset}`);
        return options.room?.() ?? true;
      },
      pauseSource: () => events.push('pause'),
      resumeSource: () => events.push('resume'),
      onOutcome: (outcome, keys) => events.push(`${outcome.reached ? 'passed' : 'timeout'}:${keys}`),
      onError: (error) => events.push(`error:${error.message}`),
    },
    { maxHeldBytes: options.maxHeldBytes },
  );
  return { gate, applied, events };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('MigrationGate', () => {
  it('lets the stream through untouched while no migrated key arrives', () => {
    const { gate, applied } = gateWith(new ManualBarrier());
    expect(gate.offer(cmd('SET', 'a', '1'), 10)).toBe(false);
    expect(applied).toEqual([]);
  });

  it('holds a RESTORE-ASKING and everything after it in order, and one pass covers all that arrived meanwhile', async () => {
    const barrier = new ManualBarrier();
    const { gate, applied, events } = gateWith(barrier);
    expect(gate.offer(cmd('RESTORE-ASKING', 'k1', '0', 'p'), 10)).toBe(true);
    expect(barrier.passes).toHaveLength(1);
    expect(gate.offer(cmd('SET', 'k1', 'newer'), 20)).toBe(true);
    expect(gate.offer(cmd('restore-asking', 'k2', '0', 'p'), 30)).toBe(true);
    expect(gate.offer(cmd('RESTORE-ASKING', 'k3', '0', 'p'), 40)).toBe(true);
    expect(gate.offer(cmd('PING'), 50)).toBe(true);
    expect(applied).toEqual([]);

    barrier.release(0);
    await tick();
    // k1 was covered by the first pass; k2 and k3 arrived after it read its goals: one second pass for both.
    expect(applied).toEqual(['RESTORE-ASKING k1 0 p@10', 'SET k1 newer@20']);
    expect(barrier.passes).toHaveLength(2);
    expect(gate.offer(cmd('RESTORE-ASKING', 'k4', '0', 'p'), 60)).toBe(true);

    barrier.release(1, false);
    await tick();
    expect(applied.slice(2)).toEqual(['restore-asking k2 0 p@30', 'RESTORE-ASKING k3 0 p@40', 'PING@50']);
    expect(barrier.passes).toHaveLength(3);
    barrier.release(2);
    await tick();
    expect(applied.at(-1)).toBe('RESTORE-ASKING k4 0 p@60');
    expect(events).toEqual(['passed:1', 'timeout:2', 'passed:1']);
    expect(gate.heldCount).toBe(0);
    expect(gate.offer(cmd('SET', 'after', '1'), 70)).toBe(false);
  });

  it('stops at a full target window and continues on resume()', async () => {
    const barrier = new ManualBarrier();
    let room = false;
    const { gate, applied } = gateWith(barrier, { room: () => room });
    gate.offer(cmd('RESTORE-ASKING', 'k', '0', 'p'), 1);
    gate.offer(cmd('SET', 'x', '1'), 2);
    gate.offer(cmd('SET', 'y', '1'), 3);
    barrier.release(0);
    await tick();
    expect(applied).toHaveLength(1);
    // Still behind the first command: new ones queue in order.
    expect(gate.offer(cmd('SET', 'z', '1'), 4)).toBe(true);
    room = true;
    gate.resume();
    expect(applied.map((line) => line.split('@')[1])).toEqual(['1', '2', '3', '4']);
  });

  it('pauses the source above maxHeldBytes and resumes once the queue drains', async () => {
    const barrier = new ManualBarrier();
    const { gate, events } = gateWith(barrier, { maxHeldBytes: 200 });
    gate.offer(cmd('RESTORE-ASKING', 'k', '0', 'p'), 1);
    for (let i = 0; i < 10; i++) gate.offer(cmd('SET', `key-${i}`, 'x'.repeat(20)), 2 + i);
    expect(events).toEqual(['pause']);
    barrier.release(0);
    await tick();
    expect(events).toEqual(['pause', 'passed:1', 'resume']);
  });

  it('drops what it holds on close() and ignores a pass that ends afterwards', async () => {
    const barrier = new ManualBarrier();
    const { gate, applied, events } = gateWith(barrier);
    gate.offer(cmd('RESTORE-ASKING', 'k', '0', 'p'), 1);
    gate.close();
    barrier.release(0);
    await tick();
    expect(applied).toEqual([]);
    expect(events).toEqual([]);
  });
});
