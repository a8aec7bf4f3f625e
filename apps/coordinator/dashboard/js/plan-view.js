import { api, planPath } from './api.js';
import { h, setText } from './dom.js';
import { formatBytes, formatCaps, formatMs, formatRate, formatTime } from './format.js';
import { LagChart } from './lag-chart.js';
import { LagSeries } from './lag-series.js';
import { PlanActions } from './plan-actions.js';
import { ShardTable } from './shard-table.js';
import { VerificationPanel } from './verification-panel.js';

function endpoints(side) {
  if (!side) return '–';
  if (side.type === 'rdb') return `RDB file ${side.path ?? ''}`.trim();
  return `${side.type} ${(side.seeds ?? []).join(', ')}`;
}

function rolloutText(plan) {
  if (!plan.rollout) return 'no canary rollout';
  const { stage, since, canaryShards } = plan.rollout;
  const canaries = (canaryShards ?? []).join(', ') || 'none';
  return `${stage} since ${formatTime(since)} (canaries: ${canaries})`;
}

/** Plan-wide and per-shard caps, when the plan has any (GET /v1/plans/:id carries them as an optional object). */
function capsText(caps) {
  if (typeof caps !== 'object' || caps === null) return 'none';
  const parts = [];
  const planWide = formatCaps(caps);
  if (planWide) parts.push(`plan: ${planWide}`);
  for (const [shard, own] of Object.entries(caps.perShard ?? {})) {
    const text = formatCaps(own);
    if (text) parts.push(`shard ${shard}: ${text}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'none';
}

function fact(label, field) {
  return [h('dt', {}, label), h('dd', { 'data-field': field }, '–')];
}

/** One plan: its state, rollout and caps, the actions, the lag charts of the last hour and the shards. */
export function planView(planId) {
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const announce = (message, isError = false) => {
    status.classList.toggle('error', isError);
    status.textContent = message;
  };
  const table = new ShardTable({ onRetry: (shard) => actions.retryShard(shard) });
  const actions = new PlanActions({ planId, announce, afterAction: () => refresh() });
  const verification = new VerificationPanel(planId);
  const series = new LagSeries(planId);
  const bytesChart = new LagChart({ id: 'lag-bytes', title: 'Lag in bytes, last hour', format: formatBytes });
  const msChart = new LagChart({ id: 'lag-ms', title: 'Lag in milliseconds, last hour', format: formatMs });
  const opsChart = new LagChart({ id: 'ops', title: 'Ops/s applied, last hour', format: formatRate });
  const title = h('h2', { id: 'plan-title' }, `Plan ${planId}`);
  const facts = h(
    'dl',
    { class: 'facts' },
    fact('State', 'state'),
    fact('Source', 'source'),
    fact('Target', 'target'),
    fact('Created', 'createdAt'),
    fact('Rollout', 'rollout'),
    fact('Caps', 'caps'),
  );
  const element = h(
    'section',
    { 'aria-labelledby': 'plan-title' },
    h('p', {}, h('a', { href: '#/' }, '← All plans')),
    title,
    facts,
    actions.element,
    status,
    h('h3', {}, 'Shards'),
    table.element,
    h('div', { class: 'charts' }, bytesChart.element, msChart.element, opsChart.element),
    verification.element,
  );

  async function refresh() {
    const [plan] = await Promise.all([api('GET', planPath(planId)), series.refresh()]);
    setText(title, `Plan ${plan.name} (${plan.id})`);
    const field = (name) => facts.querySelector(`[data-field="${name}"]`);
    setText(field('state'), plan.state);
    setText(field('source'), endpoints(plan.source));
    setText(field('target'), endpoints(plan.target));
    setText(field('createdAt'), formatTime(plan.createdAt));
    setText(field('rollout'), rolloutText(plan));
    setText(field('caps'), capsText(plan.caps));
    table.update(plan.shards);
    actions.update(plan);
    const order = plan.shards.map((shard) => shard.id);
    bytesChart.update(series.of(order, 'lagBytes'), series.now, series.windowMs);
    msChart.update(series.of(order, 'lagMs'), series.now, series.windowMs);
    opsChart.update(series.of(order, 'opsPerSecond'), series.now, series.windowMs);
    await verification.refresh();
  }

  return { element, title: `Plan ${planId}`, refresh, dispose() {} };
}
