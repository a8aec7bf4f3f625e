import { api, planPath } from './api.js';

/**
 * The page's copy of a plan's lag history: the whole window on the first refresh, then only the samples taken
 * since the newest one it holds (GET …/history?since=). Samples older than the window are dropped.
 */
export class LagSeries {
  constructor(planId) {
    this.planId = planId;
    this.samples = new Map();
    this.newest = 0;
    this.now = Date.now();
    this.windowMs = 3_600_000;
  }

  async refresh() {
    const answer = await api('GET', `${planPath(this.planId)}/history?since=${this.newest}`);
    this.now = answer.now;
    this.windowMs = answer.windowMs;
    for (const [shardId, samples] of Object.entries(answer.shards)) {
      const held = this.samples.get(shardId) ?? [];
      held.push(...samples);
      this.samples.set(shardId, held);
      for (const sample of samples) this.newest = Math.max(this.newest, sample.at);
    }
    const from = this.now - this.windowMs;
    for (const [shardId, held] of this.samples) {
      const first = held.findIndex((sample) => sample.at >= from);
      this.samples.set(shardId, first === -1 ? [] : held.slice(first));
    }
  }

  /** `[{ shardId, samples: [{ at, value }] }]` of one sampled field, in the shards' order. */
  of(shardIds, field) {
    return shardIds.map((shardId) => ({
      shardId,
      samples: (this.samples.get(shardId) ?? []).map((sample) => ({ at: sample.at, value: sample[field] })),
    }));
  }
}
