import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FileCheckpointStore } from '../checkpoint/file-checkpoint-store.js';
import { SourceLocator } from '../source/source-locator.js';
import { ShardJobDataError, syncOptionsFromJob, type WorkerShardJobData } from './sync-options-from-job.js';

const context = {
  checkpoints: new FileCheckpointStore('/nonexistent'),
  logger: pino({ level: 'silent' }),
  resolveSecret: () => undefined,
};

function job(overrides: Partial<WorkerShardJobData> = {}): WorkerShardJobData {
  return {
    planId: 'p',
    planName: 'p',
    shardId: 'p-0',
    nodeId: 'a'.repeat(40),
    slots: [[0, 5460]],
    announced: 'node-0.internal:6379',
    reachable: '127.0.0.1:16379',
    source: { tls: false },
    target: { type: 'standalone', seeds: ['127.0.0.1:6380'], tls: false },
    ...overrides,
  };
}

describe('syncOptionsFromJob', () => {
  it('follows failovers of a cluster shard, with its node id and announced address', () => {
    const options = syncOptionsFromJob(
      job({ clusterSeeds: ['127.0.0.1:16380'], natMap: { 'node-1.internal:6379': '127.0.0.1:16380' } }),
      context,
    );
    expect(options.locator).toBeInstanceOf(SourceLocator);
    expect(options.locator?.readFrom).toBe('master');
    expect(options.sourceNode).toEqual({ nodeId: 'a'.repeat(40), announced: 'node-0.internal:6379' });
    expect(syncOptionsFromJob(job({ readFrom: 'prefer-replica' }), context).locator?.readFrom).toBe(
      'prefer-replica',
    );
  });

  it("passes the plan's target.window to the target writer, and leaves the writer's defaults otherwise", () => {
    const target = { type: 'standalone' as const, seeds: ['127.0.0.1:6380'], tls: false };
    const fixed = syncOptionsFromJob(
      job({ target: { ...target, window: { maxCommands: 20_000, maxBytes: 8_388_608, adaptive: false } } }),
      context,
    );
    expect(fixed.target).toMatchObject({
      maxInFlight: 20_000,
      maxInFlightBytes: 8_388_608,
      adaptiveWindow: false,
    });
    const plain = syncOptionsFromJob(job({ target }), context).target;
    expect([plain.maxInFlight, plain.maxInFlightBytes, plain.adaptiveWindow]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('does not follow a standalone source', () => {
    expect(syncOptionsFromJob(job({ nodeId: null, slots: [[0, 16383]] }), context).locator).toBeUndefined();
  });

  it('rejects a malformed natMap or cluster seed naming the field', () => {
    expect(() => syncOptionsFromJob(job({ natMap: { nope: '127.0.0.1:1' } }), context)).toThrow(
      ShardJobDataError,
    );
    expect(() => syncOptionsFromJob(job({ clusterSeeds: ['nope'] }), context)).toThrow(/clusterSeeds\[0\]/);
  });

  it('verifies a TLS source against its announced name unless the plan sets servername', () => {
    const tls = { ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' };
    const announced = syncOptionsFromJob(job({ source: { tls } }), context);
    expect(announced.source.tls).toMatchObject({ ca: tls.ca, servername: 'node-0.internal' });
    const fixed = syncOptionsFromJob(
      job({ source: { tls: { ...tls, servername: 'redis.example' } } }),
      context,
    );
    expect(fixed.source.tls?.servername).toBe('redis.example');
    const byAddress = syncOptionsFromJob(job({ announced: '10.0.0.1:6379', source: { tls } }), context);
    expect(byAddress.source.tls?.servername).toBeUndefined();
  });

  it('carries mode, targetMode and filter; refuses the modes this worker does not run, with a code', () => {
    const options = syncOptionsFromJob(
      job({ mode: 'full', targetMode: 'skip-existing', filter: { keys: { prefixes: ['a'] } } }),
      context,
    );
    expect(options).toMatchObject({ mode: 'full', targetMode: 'skip-existing', wholeKeyspace: false });
    expect(options.filter).toEqual({ keys: { prefixes: ['a'] } });
    expect(syncOptionsFromJob(job({ nodeId: null, slots: [[0, 16383]] }), context)).toMatchObject({
      mode: 'sync',
      targetMode: 'replace',
      wholeKeyspace: true,
    });
    const failIfNotEmpty = job({ nodeId: null, slots: [[0, 16383]], targetMode: 'fail-if-not-empty' });
    expect(syncOptionsFromJob(failIfNotEmpty, context).targetKeyspace).toBeTypeOf('function');
    // a run before this one may have written: its keys must not fail the shard
    expect(
      syncOptionsFromJob(failIfNotEmpty, { ...context, targetWrittenBefore: true }).targetKeyspace,
    ).toBeUndefined();
    for (const mode of ['scan', 'rdb'] as const) {
      expect(() => syncOptionsFromJob(job({ mode }), context)).toThrow(
        expect.objectContaining({ code: 'SYNC_MODE_UNSUPPORTED', message: expect.stringContaining(mode) }),
      );
    }
  });
});
