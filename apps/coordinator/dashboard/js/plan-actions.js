import { api, planPath } from './api.js';
import { confirmAction } from './confirm.js';
import { h } from './dom.js';

/**
 * The plan's buttons: stop, resume, retry its failed shards, start a verification; and a shard's retry. Each asks
 * for a confirmation first, then reports what the coordinator answered in `announce`.
 */
export class PlanActions {
  constructor({ planId, announce, afterAction }) {
    this.planId = planId;
    this.announce = announce;
    this.afterAction = afterAction;
    this.failed = [];
    this.buttons = {
      stop: this.button('stop', 'Stop plan', () => this.stop()),
      resume: this.button('resume', 'Resume plan', () => this.resume()),
      retryFailed: this.button('retry-failed', 'Retry failed shards', () => this.retryFailed()),
      verify: this.button('verify', 'Start verification', () => this.verify()),
    };
    this.element = h(
      'div',
      { class: 'actions', role: 'group', 'aria-label': 'Plan actions' },
      Object.values(this.buttons),
    );
  }

  button(action, label, run) {
    const button = h('button', { type: 'button', class: 'secondary', 'data-action': action }, label);
    button.addEventListener('click', () => this.perform(run));
    return button;
  }

  /** Enables what the plan's state allows: a cut-over plan is final (no resume, no retry). */
  update(plan) {
    const final = plan.state === 'cut-over';
    this.failed = plan.shards.filter((shard) => shard.phase === 'failed');
    this.buttons.resume.disabled = final;
    this.buttons.retryFailed.disabled = final || this.failed.length === 0;
    this.buttons.verify.disabled = plan.source?.type === 'rdb';
  }

  async perform(run) {
    try {
      const message = await run();
      if (message) this.announce(message);
    } catch (error) {
      this.announce(`${error.message}${error.code ? ` (${error.code})` : ''}`, true);
    }
    await this.afterAction();
  }

  async stop() {
    const ok = await confirmAction(
      'Stop the plan?',
      `Every shard of plan ${this.planId} stops and keeps its checkpoint; “Resume plan” continues them.`,
      'Stop plan',
    );
    if (!ok) return null;
    const { state } = await api('POST', `${planPath(this.planId)}/stop`);
    return `Plan ${this.planId}: every shard told to stop (${state}).`;
  }

  async resume() {
    const ok = await confirmAction(
      'Resume the plan?',
      `The stopped shards of plan ${this.planId} are queued again and continue from their checkpoints.`,
      'Resume plan',
    );
    if (!ok) return null;
    await api('POST', `${planPath(this.planId)}/resume`);
    return `Plan ${this.planId} resumed.`;
  }

  async retryFailed() {
    const ids = this.failed.map((shard) => shard.id);
    const ok = await confirmAction(
      'Retry the failed shards?',
      `Shards ${ids.join(', ')} are queued again and resume from their checkpoints. Fix the cause shown in ` +
        `“Last error” first.`,
      'Retry failed shards',
    );
    if (!ok) return null;
    for (const id of ids)
      await api('POST', `${planPath(this.planId)}/shards/${encodeURIComponent(id)}/retry`);
    return `Shards ${ids.join(', ')} queued again.`;
  }

  async retryShard(shard) {
    await this.perform(async () => {
      const ok = await confirmAction(
        `Retry shard ${shard.id}?`,
        `Shard ${shard.id} (${shard.announced}) is queued again and resumes from its checkpoint. Fix the cause ` +
          `shown in “Last error” first.`,
        `Retry shard ${shard.id}`,
      );
      if (!ok) return null;
      await api('POST', `${planPath(this.planId)}/shards/${encodeURIComponent(shard.id)}/retry`);
      return `Shard ${shard.id} queued again.`;
    });
  }

  async verify() {
    const ok = await confirmAction(
      'Start a verification?',
      `The keys of plan ${this.planId}'s source are compared with the target; the result shows under ` +
        `“Verification”.`,
      'Start verification',
    );
    if (!ok) return null;
    const report = await api('POST', `${planPath(this.planId)}/verify`, { body: {} });
    return `Verification ${report.id} started.`;
  }
}
