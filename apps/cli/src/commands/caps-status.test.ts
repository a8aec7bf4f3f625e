import { describe, expect, it } from 'vitest';
import { describeCaps } from './caps-command.js';
import { renderPlanStatus, type PlanStatusView } from './status-command.js';

describe('status and caps wording', () => {
  it("prints the plan's caps, each shard's cap with 'throttled', and the output buffer warning with its fix", () => {
    const plan: PlanStatusView = {
      id: 'p',
      name: 'orders',
      state: 'active',
      caps: { opsPerSecond: 2000, perShard: { 'p-1': { bytesPerSecond: 1048576 } } },
      shards: [
        {
          id: 'p-0',
          phase: 'incremental',
          rateCap: { opsPerSecond: 1000, bytesPerSecond: null, throttled: true, throttledMs: 5000 },
          outputBuffer: { backlogBytes: 6 * 1048576, limitBytes: 8 * 1048576, warning: true },
        },
        {
          id: 'p-1',
          phase: 'incremental',
          rateCap: { opsPerSecond: 1000, bytesPerSecond: 1048576, throttled: false, throttledMs: 0 },
          outputBuffer: { backlogBytes: 0, limitBytes: 8 * 1048576, warning: false },
        },
      ],
    };
    const text = renderPlanStatus(plan);
    expect(text).toContain(
      'caps: 2000 ops/s for the plan (divided evenly among its shards); shard p-1: 1048576 bytes/s',
    );
    const [first, warning, second] = text.split('\n').slice(2);
    expect(first).toMatch(/^ {2}p-0 .*cap 1000 ops\/s \(throttled\)$/);
    expect(warning).toMatch(
      /WARNING: the source holds [\d.]+ MB for this shard, 75% of its client-output-buffer-limit replica/,
    );
    expect(warning).toContain('raise the cap (`shardbridge caps`) or the limit on the source');
    expect(second).toMatch(/cap 1000 ops\/s, [\d.]+ MB\/s$/);
  });

  it('says when a plan has no caps', () => {
    expect(describeCaps({})).toBe('none (unlimited)');
  });
});
