import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { DiscoveryError } from '@shardbridge/plan';
import type { RunningCoordinator } from '../start-coordinator.js';
import type { DiscoverShards } from '../shard-discovery.js';
import { call, captureLogger, startApp } from '../test-support/harness.js';

let queueRedis: RedisServer;
let coordinator: RunningCoordinator;
let logLines: string[];
let discover: DiscoverShards;

const plan = {
  name: 'injected',
  source: { type: 'cluster', seeds: ['10.0.0.1:7000'] },
  target: { type: 'cluster', seeds: ['10.0.1.1:7000'] },
};

beforeAll(async () => {
  queueRedis = await startRedis();
  const { logger, lines } = captureLogger();
  logLines = lines;
  coordinator = await startApp(queueRedis, {
    logger,
    discover: (source, options) => discover(source, options),
    // A passing preflight that vouches for no shard: the injected discovery decides.
    preflight: async (checked) => ({
      ok: true,
      durationMs: 0,
      source: { type: checked.source.type, shards: [] },
      target: { type: checked.target.type, nodes: [], slotsCovered: null },
      problems: [],
    }),
  });
});

afterAll(async () => {
  await coordinator?.close();
  await queueRedis?.stop();
});

describe('the error handler', () => {
  it('answers an unexpected failure with a generic 500 and logs the stack', async () => {
    discover = async () => {
      throw new Error('internal detail: /etc/shardbridge/secret');
    };
    const answer = await call(coordinator.url, '/v1/plans', { body: plan });
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toEqual({
      type: 'urn:shardbridge:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: 'the coordinator failed to handle the request',
      instance: '/v1/plans',
      code: 'INTERNAL',
    });
    expect(logLines.join('')).toContain('internal detail: /etc/shardbridge/secret');
    expect(logLines.join('')).toMatch(/"stack":"Error: internal detail/);
  });

  it('passes a discovery error through as 422 with its code, message and details', async () => {
    discover = async () => {
      throw new DiscoveryError('DISCOVERY_SLOTS_UNCOVERED', 'slots 100-200 have no master', {
        missing: [[100, 200]],
      });
    };
    const answer = await call(coordinator.url, '/v1/plans', { body: plan });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      code: 'DISCOVERY_SLOTS_UNCOVERED',
      detail: 'slots 100-200 have no master',
      details: { missing: [[100, 200]] },
      type: 'urn:shardbridge:problem:discovery-slots-uncovered',
    });
  });

  it('numbers the shards of whatever discovery returns', async () => {
    discover = async () => [
      {
        nodeId: 'a'.repeat(40),
        slots: [[0, 8191]],
        announced: 'n1:7000',
        reachable: '10.0.0.1:7000',
        mappedBy: 'natMap',
      },
      {
        nodeId: 'b'.repeat(40),
        slots: [[8192, 16383]],
        announced: 'n2:7000',
        reachable: '10.0.0.2:7000',
        mappedBy: 'natMap',
      },
    ];
    const answer = await call(coordinator.url, '/v1/plans', { body: plan });
    expect(answer.status).toBe(201);
    const id = answer.body.id as string;
    expect(answer.body.shards).toEqual([
      {
        id: `${id}-0`,
        slots: [[0, 8191]],
        announced: 'n1:7000',
        reachable: '10.0.0.1:7000',
        jobId: `${id}-0`,
      },
      {
        id: `${id}-1`,
        slots: [[8192, 16383]],
        announced: 'n2:7000',
        reachable: '10.0.0.2:7000',
        jobId: `${id}-1`,
      },
    ]);
  });
});
