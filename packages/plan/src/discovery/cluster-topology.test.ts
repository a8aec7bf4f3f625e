import { describe, expect, it } from 'vitest';
import { parseClusterNodes, parseClusterShards, parseClusterSlots } from './cluster-topology.js';
import { DiscoveryError } from './errors.js';

const ID_A = 'a'.repeat(40);
const ID_B = 'b'.repeat(40);
const ID_R = 'c'.repeat(40);

function shardNode(fields: Record<string, string | number>): Array<string | number> {
  return Object.entries(fields).flat();
}

describe('parseClusterShards', () => {
  // RESP2 shape as Redis 7.0 sends it: flat key/value arrays.
  const reply = [
    [
      'slots',
      [0, 100, 200, 300],
      'nodes',
      [
        shardNode({
          id: ID_R,
          port: 7002,
          ip: '10.0.0.3',
          endpoint: '10.0.0.3',
          role: 'replica',
          health: 'online',
        }),
        shardNode({ id: ID_A, port: 7000, ip: '10.0.0.1', endpoint: 'node-a.internal', role: 'master' }),
      ],
    ],
    [
      'slots',
      [101, 199, 301, 16383],
      'nodes',
      [shardNode({ id: ID_B, port: 7001, ip: '10.0.0.2', endpoint: '?', role: 'master', health: 'fail' })],
    ],
    ['slots', [], 'nodes', [shardNode({ id: 'd'.repeat(40), port: 7003, ip: '10.0.0.4', role: 'master' })]],
  ];

  it('takes each shard master with its preferred endpoint and merged ranges, skipping empty shards', () => {
    expect(parseClusterShards(reply)).toEqual([
      {
        nodeId: ID_A,
        slots: [
          [0, 100],
          [200, 300],
        ],
        announced: { host: 'node-a.internal', port: 7000 },
        replicas: [{ nodeId: ID_R, announced: { host: '10.0.0.3', port: 7002 }, health: 'online' }],
      },
      // '?' = hostname preferred but unset: fall back to the ip
      {
        nodeId: ID_B,
        slots: [
          [101, 199],
          [301, 16383],
        ],
        announced: { host: '10.0.0.2', port: 7001 },
        health: 'fail',
      },
    ]);
  });

  it('falls back to ip for an empty endpoint and picks tls-port on TLS links', () => {
    const node = shardNode({
      id: ID_A,
      port: 7000,
      'tls-port': 8000,
      ip: '10.0.0.1',
      endpoint: '',
      role: 'master',
    });
    const tlsOnly = shardNode({
      id: ID_B,
      'tls-port': 8001,
      ip: '10.0.0.2',
      endpoint: '10.0.0.2',
      role: 'master',
    });
    const shards = [
      ['slots', [0, 10], 'nodes', [node]],
      ['slots', [11, 20], 'nodes', [tlsOnly]],
    ];
    expect(parseClusterShards(shards).map((master) => master.announced)).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 8001 },
    ]);
    expect(parseClusterShards(shards, { tls: true })[0].announced).toEqual({ host: '10.0.0.1', port: 8000 });
  });

  it('accepts RESP3 maps', () => {
    const resp3 = [
      new Map<string, unknown>([
        ['slots', [0, 16383]],
        [
          'nodes',
          [new Map<string, unknown>(Object.entries({ id: ID_A, port: 7000, endpoint: 'h', role: 'master' }))],
        ],
      ]),
    ];
    expect(parseClusterShards(resp3)).toEqual([
      { nodeId: ID_A, slots: [[0, 16383]], announced: { host: 'h', port: 7000 } },
    ]);
  });

  it('refuses what is not a SHARDS reply', () => {
    expect(() => parseClusterShards('OK')).toThrow(DiscoveryError);
    expect(() => parseClusterShards([['slots', [0], 'nodes', []]])).toThrow(/odd number/);
  });
});

describe('parseClusterSlots', () => {
  it('groups entries by master, with hostname/ip/unknown endpoints', () => {
    const reply = [
      [
        0,
        99,
        ['node-a.internal', 7000, ID_A, ['ip', '10.0.0.1']],
        ['node-r.internal', 7002, ID_R, ['ip', '10.0.0.3']],
      ],
      [100, 199, ['?', 7001, ID_B, ['ip', '10.0.0.2']]],
      [200, 16383, ['node-a.internal', 7000, ID_A, ['ip', '10.0.0.1']]],
    ];
    expect(parseClusterSlots(reply)).toEqual([
      {
        nodeId: ID_A,
        slots: [
          [0, 99],
          [200, 16383],
        ],
        announced: { host: 'node-a.internal', port: 7000 },
      },
      { nodeId: ID_B, slots: [[100, 199]], announced: { host: '10.0.0.2', port: 7001 } },
    ]);
  });

  it('gives a null endpoint for unknown-endpoint and fills ids from CLUSTER NODES for old servers', () => {
    const reply = [
      [0, 8191, ['', 7000]],
      [8192, 16383, ['10.0.0.2', 7001]],
    ];
    const ids = parseClusterNodes(
      `${ID_A} 10.0.0.1:7000@17000,node-a myself,master - 0 0 1 connected 0-8191\n` +
        `${ID_B} 10.0.0.2:7001 master - 0 0 2 connected 8192-16383\n`,
    );
    expect(ids).toEqual(
      new Map([
        ['10.0.0.1:7000', ID_A],
        ['10.0.0.2:7001', ID_B],
      ]),
    );
    expect(parseClusterSlots(reply, ids)).toEqual([
      { nodeId: null, slots: [[0, 8191]], announced: null },
      { nodeId: ID_B, slots: [[8192, 16383]], announced: { host: '10.0.0.2', port: 7001 } },
    ]);
  });

  it('keys IPv6 addresses from CLUSTER NODES unbracketed, as SLOTS sends them', () => {
    const ids = parseClusterNodes(`${ID_A} ::1:7000@17000 myself,master - 0 0 1 connected 0-16383`);
    expect(parseClusterSlots([[0, 16383, ['::1', 7000]]], ids)[0].nodeId).toBe(ID_A);
  });
});
