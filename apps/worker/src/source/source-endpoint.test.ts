import { describe, expect, it } from 'vitest';
import { SourceEndpoint } from './source-endpoint.js';
import type { SourceLocator } from './source-locator.js';

/** A locator that always answers `announced` at `reachable` (the endpoint only calls `locate`). */
function movesTo(announced: string, reachable: { host: string; port: number }): SourceLocator {
  const [host, port] = announced.split(':');
  return {
    locate: async () => ({ nodeId: 'b'.repeat(40), announced: { host, port: Number(port) }, reachable }),
  } as unknown as SourceLocator;
}

function endpoint(servername: string) {
  return new SourceEndpoint({
    shardId: 's-0',
    source: { host: '127.0.0.1', port: 16379, tls: { ca: 'pem', servername } },
    sourceNode: { nodeId: 'a'.repeat(40), announced: 'node-0.internal:6379' },
    rttIntervalMs: 0,
    onRtt: () => {},
  });
}

describe('SourceEndpoint after a failover over TLS', () => {
  it('verifies the promoted node against its own announced name by default', async () => {
    const source = endpoint('node-0.internal');
    await source.relocate(movesTo('node-1.internal:6379', { host: '127.0.0.1', port: 16380 }));
    expect(source.linkOptions).toMatchObject({
      port: 16380,
      tls: { ca: 'pem', servername: 'node-1.internal' },
    });
  });

  it('keeps a servername the plan fixed for every node', async () => {
    const source = endpoint('redis.example');
    await source.relocate(movesTo('node-1.internal:6379', { host: '127.0.0.1', port: 16380 }));
    expect(source.linkOptions).toMatchObject({ port: 16380, tls: { servername: 'redis.example' } });
  });
});
