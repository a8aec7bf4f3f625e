import { describe, expect, it } from 'vitest';
import type { ShardJobProgress } from '@shardbridge/plan';
import { initialProgress, type ShardProgress } from '../shard-progress.js';
import { JobProgressReporter } from './job-progress-reporter.js';

function harness() {
  let now = 1_000_000;
  const published: ShardJobProgress[] = [];
  const reporter = new JobProgressReporter({
    workerId: 'w1',
    intervalMs: 1000,
    publish: async (p) => void published.push(p),
    onError: (error) => {
      throw error;
    },
    now: () => now,
  });
  const snapshot = (at: number, fields: Partial<ShardProgress>) => {
    now = at;
    const progress = { ...initialProgress('s-0'), phase: 'incremental' as const, ...fields };
    progress.lagBytes =
      progress.sourceOffset >= 0 && progress.acknowledgedOffset >= 0
        ? progress.sourceOffset - progress.acknowledgedOffset
        : 0;
    reporter.onProgress(progress);
  };
  return { reporter, published, snapshot, at: (t: number) => (now = t) };
}

describe('JobProgressReporter', () => {
  it('publishes at most once per interval, phase changes at once, and a final phase on finish', async () => {
    const { reporter, published, snapshot } = harness();
    snapshot(1_000_000, { phase: 'connecting' });
    snapshot(1_000_100, { phase: 'incremental', sourceOffset: 10, acknowledgedOffset: 10 });
    snapshot(1_000_200, { sourceOffset: 20, acknowledgedOffset: 20 });
    snapshot(1_000_900, { sourceOffset: 30, acknowledgedOffset: 30 });
    snapshot(1_001_200, { sourceOffset: 40, acknowledgedOffset: 40 });
    await reporter.finish('queued');
    expect(published.map((p) => [p.phase, p.sourceOffset])).toEqual([
      ['connecting', -1],
      ['incremental', 10],
      ['incremental', 40],
      ['queued', 40],
    ]);
    expect(published.every((p) => p.workerId === 'w1')).toBe(true);
    snapshot(1_002_000, { sourceOffset: 50 });
    await reporter.finish();
    expect(published).toHaveLength(4);
  });

  it('derives opsPerSecond and lagMs from successive snapshots', async () => {
    const { reporter, snapshot } = harness();
    snapshot(0, { keysWritten: 100, commandsApplied: 0, sourceOffset: 100, acknowledgedOffset: 100 });
    expect(reporter.current).toMatchObject({ opsPerSecond: 0, lagMs: 0, lagBytes: 0 });
    snapshot(1000, { keysWritten: 100, commandsApplied: 500, sourceOffset: 200, acknowledgedOffset: 100 });
    expect(reporter.current).toMatchObject({ opsPerSecond: 500, lagMs: 0, lagBytes: 100 });
    snapshot(2000, { keysWritten: 100, commandsApplied: 700, sourceOffset: 300, acknowledgedOffset: 150 });
    // byte 151 arrived by the 1000 ms snapshot
    expect(reporter.current).toMatchObject({ opsPerSecond: 200, lagMs: 1000, lagBytes: 150 });
    snapshot(3000, { keysWritten: 100, commandsApplied: 700, sourceOffset: 300, acknowledgedOffset: 250 });
    expect(reporter.current).toMatchObject({ opsPerSecond: 0, lagMs: 1000 });
    snapshot(4000, { keysWritten: 100, commandsApplied: 700, sourceOffset: 300, acknowledgedOffset: 300 });
    expect(reporter.current).toMatchObject({ lagMs: 0, lagBytes: 0 });
    // a full resync restarts the offsets: old samples must not count
    snapshot(5000, { sourceOffset: 50, acknowledgedOffset: -1 });
    expect(reporter.current?.lagMs).toBe(0);
    await reporter.finish();
  });

  it('carries the link-health fields (RTT, last disconnect, source node) into the job progress', async () => {
    const { reporter, snapshot } = harness();
    const lastDisconnect = { at: 123, code: 'REPL_CONNECTION_CLOSED', message: 'closed' };
    const sourceNode = { nodeId: 'a'.repeat(40), announced: 'node-0:6379', reachable: '127.0.0.1:16379' };
    snapshot(0, { rttMs: 0.42, lastDisconnect, sourceNode, sourceFailovers: 1 });
    expect(reporter.current).toMatchObject({ rttMs: 0.42, lastDisconnect, sourceNode, sourceFailovers: 1 });
    await reporter.finish();
  });
});
