import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameContents,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisServer,
} from '@shardbridge/testkit';
import { startCli } from './support/cli-process.js';
import { startCountingWrites } from './support/counting-writes.js';
import { scratchDir, syncCounters, waitUntilCaughtUp } from './support/sync-harness.js';

const KILL_ROUNDS = 4;

/** Direct, and with the target 80 ms of round trip away (a proxy holding every chunk 40 ms each way). */
describe.each([
  { link: 'loopback', oneWayMs: 0 },
  { link: 'an 80 ms round trip to the target', oneWayMs: 40 },
])('target.exactlyOnce across $link: kill -9 mid-stream never applies a command twice', ({ oneWayMs }) => {
  let source: RedisServer;
  let target: RedisServer;
  let proxy: FaultProxy | null = null;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    [source, target, scratch] = await Promise.all([
      startRedis({ config: { 'repl-backlog-size': '64mb' } }),
      startRedis(),
      scratchDir(),
    ]);
    if (oneWayMs > 0) {
      proxy = await startFaultProxy({ host: target.host, port: target.port });
      proxy.setDelay(oneWayMs);
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([source?.stop(), target?.stop(), scratch?.remove()]);
  });

  it(`${KILL_ROUNDS} kill -9 rounds under RPUSH/INCR/HINCRBY/MULTI load: lists, counters equal; +CONTINUE each time`, async () => {
    const client = source.client();
    const plan = join(scratch.path, 'once.plan.json');
    await writeFile(
      plan,
      JSON.stringify({
        name: 'once',
        source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
        target: {
          type: 'standalone',
          seeds: [proxy ? `${proxy.host}:${proxy.port}` : `${target.host}:${target.port}`],
          exactlyOnce: true,
        },
      }),
    );
    const args = [
      'run',
      '--direct',
      plan,
      '--checkpoint-dir',
      join(scratch.path, 'cp'),
      '--progress-interval',
      '200',
    ];
    let cli = startCli(args);
    await cli.waitFor(/incremental/, 60_000);
    const writes = startCountingWrites(client);
    const before = await syncCounters(source);
    let resumedFromMarker = 0;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      // a moment with writes in flight: between 0.3 and 1.1 s into the round
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 800)));
      cli.child.kill('SIGKILL');
      await cli.exited;
      cli = startCli(args);
      await cli.waitFor(/partial resync accepted/, 60_000);
      if (/resuming from its applied marker/.test(cli.stdout() + cli.stderr())) resumedFromMarker++;
    }
    const written = await writes.stop();
    await waitUntilCaughtUp(cli, source);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);

    const marker = await target.client().get('shardbridge:applied:once-0');
    expect(marker).toMatch(/^[0-9a-f]{40} \d+ 0$/);
    // The marker is ShardBridge's own key on the target; everything else must equal the source exactly.
    await target.client().del('shardbridge:applied:once-0');
    expect(Number(await target.client().get('counter'))).toBe(written);
    await assertSameContents(client, target.client());
    const after = await syncCounters(source);
    expect(after.full).toBe(before.full);
    expect(after.partialOk).toBeGreaterThanOrEqual(before.partialOk + KILL_ROUNDS);
    console.log(
      `exactly-once (one way ${oneWayMs} ms): ${KILL_ROUNDS} kill -9 rounds, ${written} RPUSH/INCR pairs, ` +
        `${resumedFromMarker} resume(s) from the applied marker ahead of the checkpoint, no full resync`,
    );
  }, 180_000);
});
