import { describe, expect, it } from 'vitest';
import { planSettled, type PlanStatusView } from './status-command.js';

const plan = (state: string, jobStates: string[]): PlanStatusView => ({
  id: 'p',
  name: 'n',
  state,
  shards: jobStates.map((jobState, index) => ({ id: `p-${index}`, phase: 'incremental', jobState })),
});

describe('status --watch: when the plan has settled', () => {
  it('stops following a completed or cut-over plan, and a stopped one once no shard job runs', () => {
    expect(planSettled(plan('completed', ['completed']))).toBe(true);
    expect(planSettled(plan('cut-over', ['completed', 'completed']))).toBe(true);
    expect(planSettled(plan('stopped', ['completed', 'waiting', 'failed']))).toBe(true);
  });

  it('keeps following an active plan, and a stopped one while a shard still flushes', () => {
    expect(planSettled(plan('active', ['completed']))).toBe(false);
    expect(planSettled(plan('stopped', ['completed', 'active']))).toBe(false);
  });
});
