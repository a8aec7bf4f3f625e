import { api, ApiError, planPath } from './api.js';
import { h, setText } from './dom.js';
import { formatCount, formatTime } from './format.js';

const TOTALS = [
  ['keysCompared', 'Keys compared'],
  ['missing', 'Missing on the target'],
  ['extra', 'Extra on the target'],
  ['type', 'Type differs'],
  ['value', 'Value differs'],
  ['ttl', 'TTL differs'],
];

/** The plan's last verification report (GET …/verification), or that there is none yet. */
export class VerificationPanel {
  constructor(planId) {
    this.planId = planId;
    this.status = h('p', { 'data-field': 'verification-status' }, 'Loading…');
    this.list = h('dl', { class: 'facts' });
    this.element = h(
      'section',
      { 'aria-labelledby': 'verification-title', class: 'panel' },
      h('h3', { id: 'verification-title' }, 'Verification'),
      this.status,
      this.list,
    );
  }

  async refresh() {
    let report;
    try {
      report = await api('GET', `${planPath(this.planId)}/verification`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'VERIFICATION_NOT_FOUND') {
        setText(this.status, 'Not verified yet. “Start verification” compares the source and the target.');
        this.list.replaceChildren();
        return;
      }
      throw error;
    }
    const finished = report.finishedAt ? `, finished ${formatTime(report.finishedAt)}` : '';
    const reason = report.reason ? ` — ${report.reason}` : '';
    setText(
      this.status,
      `Verification ${report.id}: ${report.status} (started ${formatTime(report.startedAt)}${finished})${reason}`,
    );
    const totals = report.totals ?? {};
    this.list.replaceChildren(
      ...TOTALS.flatMap(([field, label]) => [h('dt', {}, label), h('dd', {}, formatCount(totals[field]))]),
      ...(report.truncated ? [h('dt', {}, 'Listed'), h('dd', {}, 'the first differences only')] : []),
    );
  }
}
