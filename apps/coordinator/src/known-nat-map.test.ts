import { describe, expect, it } from 'vitest';
import { parsePlan, type ShardRecord } from '@shardbridge/plan';
import { knownNatMapOf, shardJobData } from './plan-submission.js';

const plan = parsePlan({
  name: 'p',
  source: {
    type: 'cluster',
    seeds: ['10.0.0.1:7000'],
    natDiscover: ['203.0.113.7:17000', '203.0.113.7:17001'],
    natMap: { '10.0.0.9:7000': '203.0.113.9:17000' },
  },
  target: { type: 'standalone', seeds: ['127.0.0.1:6379'] },
});

const shard = (id: string, announced: string, reachable: string): ShardRecord => ({
  id,
  nodeId: id,
  slots: [[0, 100]],
  announced,
  reachable,
  jobId: id,
});

describe('job data of a cluster shard', () => {
  it('carries every mapping discovery found (natDiscover, rules) besides the plan natMap', () => {
    const shards = [
      shard('p-0', '10.0.0.1:7000', '203.0.113.7:17000'),
      shard('p-1', '10.0.0.2:7000', '203.0.113.7:17001'),
    ];
    expect(knownNatMapOf(plan, shards)).toEqual({
      '10.0.0.1:7000': '203.0.113.7:17000',
      '10.0.0.2:7000': '203.0.113.7:17001',
      '10.0.0.9:7000': '203.0.113.9:17000',
    });
    const data = shardJobData('p', plan, shards[0], ['203.0.113.7:17000'], knownNatMapOf(plan, shards));
    expect(data.natMap).toMatchObject({ '10.0.0.2:7000': '203.0.113.7:17001' });
  });

  it('carries the replicas discovery mapped, so a worker can dial a promoted replica', () => {
    const shards = [
      {
        ...shard('p-0', '10.0.0.1:7000', '203.0.113.7:17000'),
        replicaAddresses: [
          { nodeId: 'r0', announced: '10.0.0.11:7000', reachable: '203.0.113.7:17010' },
          { nodeId: 'r1', announced: '10.0.0.12:7000', reachable: '10.0.0.12:7000' },
        ],
      },
    ];
    const natMap = knownNatMapOf(plan, shards);
    expect(natMap).toMatchObject({ '10.0.0.11:7000': '203.0.113.7:17010' });
    expect(natMap).not.toHaveProperty(['10.0.0.12:7000']);
  });
});

describe('job data: scan mode settings', () => {
  it('carries source.configureSource only when the plan allows it', () => {
    const one = shard('p-0', '10.0.0.1:7000', '203.0.113.7:17000');
    expect(shardJobData('p', plan, one).configureSource).toBeUndefined();
    const allowing = parsePlan({ ...plan, source: { ...plan.source, configureSource: true } });
    expect(shardJobData('p', allowing, one).configureSource).toBe(true);
  });
});
