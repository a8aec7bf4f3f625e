import { describe, expect, it } from 'vitest';
import type { DiscoveredShard, ShardRecord } from '@shardbridge/plan';
import { diffTopology } from './topology-diff.js';

const record = (index: number, slots: Array<[number, number]>): ShardRecord => ({
  id: `p-${index}`,
  nodeId: `node${index}`,
  slots,
  announced: `node-${index}.invalid:7000`,
  reachable: `127.0.0.1:${7000 + index}`,
  jobId: `p-${index}`,
});
const master = (nodeId: string, slots: Array<[number, number]>, port = 7100): DiscoveredShard => ({
  nodeId,
  slots,
  announced: `${nodeId}.invalid:7000`,
  reachable: `127.0.0.1:${port}`,
  mappedBy: 'natMap',
});
const planned = [record(0, [[0, 5460]]), record(1, [[5461, 10922]]), record(2, [[10923, 16383]])];
const newId = (n: number) => `p-${3 + n}`;

describe('diffTopology', () => {
  it('reports nothing while the masters serve the planned slots', () => {
    const same = planned.map((shard) => master(shard.nodeId!, shard.slots));
    expect(diffTopology(planned, same, 1, newId)).toMatchObject({ added: [], updated: [], events: [] });
  });

  it('reports slots moved between shards and updates both records', () => {
    const change = diffTopology(
      planned,
      [
        master('node0', [[100, 5460]]),
        master('node1', [
          [0, 99],
          [5461, 10922],
        ]),
        master('node2', [[10923, 16383]]),
      ],
      5,
      newId,
    );
    expect(change.events).toEqual([{ at: 5, kind: 'slots-moved', from: 'p-0', to: 'p-1', slots: [[0, 99]] }]);
    expect(change.updated.map((shard) => [shard.id, shard.slots])).toEqual([
      ['p-0', [[100, 5460]]],
      [
        'p-1',
        [
          [0, 99],
          [5461, 10922],
        ],
      ],
    ]);
    expect(change.added).toEqual([]);
  });

  it('takes a new master of the same slots for a failover, not a new shard', () => {
    const change = diffTopology(
      planned,
      [
        master('node0', [[0, 5460]]),
        master('promoted', [[5461, 10922]], 7201),
        master('node2', [[10923, 16383]]),
      ],
      5,
      newId,
    );
    expect(change.added).toEqual([]);
    expect(change.events).toEqual([]);
    expect(change.updated).toEqual([
      { ...planned[1], nodeId: 'promoted', announced: 'promoted.invalid:7000', reachable: '127.0.0.1:7201' },
    ]);
  });

  it('adds a shard for a master that got slots no shard covered, and marks an emptied one drained', () => {
    const change = diffTopology(
      planned,
      [
        master('node1', [[5461, 10922]]),
        master('node2', [[10923, 16383]]),
        master('node3', [[0, 5460]], 7103),
      ],
      9,
      newId,
      new Set(['p-0']),
    );
    expect(change.added).toEqual([
      {
        id: 'p-3',
        jobId: 'p-3',
        nodeId: 'node3',
        slots: [[0, 5460]],
        announced: 'node3.invalid:7000',
        reachable: '127.0.0.1:7103',
        addedAt: 9,
      },
    ]);
    expect(change.events).toEqual([
      { at: 9, kind: 'slots-moved', from: 'p-0', to: 'p-3', slots: [[0, 5460]] },
      { at: 9, kind: 'shard-drained', from: 'p-0', slots: [[0, 5460]] },
      { at: 9, kind: 'shard-added', to: 'p-3', slots: [[0, 5460]] },
    ]);
    expect(change.shards.find((shard) => shard.id === 'p-0')).toMatchObject({ slots: [], drainedAt: 9 });
    // Seen again: nothing new.
    const again = diffTopology(
      change.shards,
      [
        master('node1', [[5461, 10922]]),
        master('node2', [[10923, 16383]]),
        master('node3', [[0, 5460]], 7103),
      ],
      10,
      (n) => `p-${4 + n}`,
      new Set(['p-0']),
    );
    expect(again).toMatchObject({ added: [], updated: [], events: [] });
  });
});
