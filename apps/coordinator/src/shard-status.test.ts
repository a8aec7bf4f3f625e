import { describe, expect, it } from 'vitest';
import type { ShardJobProgress, ShardRecord } from '@shardbridge/plan';
import { readProgress, shardStatus, type ShardJob } from './shard-status.js';

const record: ShardRecord = {
  id: 'p1-0',
  nodeId: null,
  slots: [[0, 16383]],
  announced: 'h:1',
  reachable: 'h:1',
  jobId: 'p1-0',
};

const report: ShardJobProgress = {
  phase: 'incremental',
  workerId: 'w1',
  replid: null,
  rdbBytesDone: 10,
  rdbBytesTotal: 10,
  keysWritten: 3,
  commandsApplied: 4,
  sourceOffset: 100,
  acknowledgedOffset: 90,
  lagBytes: 10,
  lagMs: 5,
  opsPerSecond: 7,
  fullSyncs: 1,
  partialSyncs: 2,
  reconnects: 3,
  lastError: { code: 'SOURCE_CLOSED', message: 'source closed the link' },
  reportedAt: 1,
};

const job = (fields: Partial<ShardJob>) =>
  ({ attemptsMade: 0, failedReason: '', progress: 0, ...fields }) as ShardJob;

describe('shardStatus', () => {
  it('is queued while the job waits, even with a report from an earlier run', () => {
    expect(shardStatus(record, job({}), 'waiting').phase).toBe('queued');
    expect(shardStatus(record, job({ progress: report }), 'waiting')).toMatchObject({
      phase: 'queued',
      lagBytes: 10,
    });
    expect(shardStatus(record, job({}), 'delayed').phase).toBe('queued');
  });

  it('takes the phase and figures of an active job from its progress', () => {
    expect(shardStatus(record, job({ progress: report }), 'active')).toMatchObject({
      phase: 'incremental',
      workerId: 'w1',
      sourceOffset: 100,
      acknowledgedOffset: 90,
      lastError: report.lastError,
    });
    expect(shardStatus(record, job({}), 'active')).toMatchObject({ phase: 'connecting', sourceOffset: -1 });
  });

  it('reports a failed job with its failedReason and a completed one as stopped', () => {
    const failed = shardStatus(
      record,
      job({ progress: report, failedReason: 'boom', attemptsMade: 2 }),
      'failed',
    );
    expect(failed).toMatchObject({
      phase: 'failed',
      attempts: 2,
      lastError: { code: 'SOURCE_CLOSED', message: 'boom' },
    });
    expect(shardStatus(record, job({ failedReason: 'boom' }), 'failed').lastError).toEqual({
      code: 'SHARD_FAILED',
      message: 'boom',
    });
    expect(shardStatus(record, job({ progress: report }), 'completed').phase).toBe('stopped');
  });

  it('says missing when the job is gone', () => {
    expect(shardStatus(record, undefined, 'missing')).toMatchObject({
      phase: 'missing',
      attempts: 0,
      workerId: null,
    });
  });

  it('ignores progress that is not a report', () => {
    expect(readProgress(42)).toBeNull();
    expect(readProgress({ percent: 3 })).toBeNull();
    expect(readProgress(null)).toBeNull();
  });

  it('a completed job is completed when its last report says so (mode "full"), stopped otherwise', () => {
    const done = { ...report, phase: 'completed' as const, keysFiltered: 4, keysSkippedExpired: 1 };
    expect(shardStatus(record, job({ progress: done }), 'completed')).toMatchObject({
      phase: 'completed',
      keysFiltered: 4,
      commandsFiltered: 0,
      keysSkippedExpired: 1,
    });
    expect(shardStatus(record, job({ progress: report }), 'completed').phase).toBe('stopped');
  });
});
