import { h, setText, syncChildren } from './dom.js';
import { formatBytes, formatCaps, formatCount, formatMs, formatOffset } from './format.js';
import { shardColour } from './lag-chart.js';

/** Phases a shard can be re-queued from (POST …/shards/:shard/retry answers 409 for the others). */
const RETRYABLE = new Set(['failed', 'stopped', 'missing']);

const COLUMNS = [
  ['address', 'Announced → reachable'],
  ['workerId', 'Worker'],
  ['phase', 'Phase'],
  ['fullSync', 'Full sync'],
  ['lag', 'Lag (bytes / ms)'],
  ['opsPerSecond', 'Ops/s'],
  ['offset', 'Offset (acked / source)'],
  ['reconnects', 'Reconnects'],
  ['resyncs', 'Resyncs (partial / full)'],
  ['cap', 'Cap'],
  ['consistency', 'Consistency'],
  ['lastError', 'Last error'],
  ['actions', 'Actions'],
];

function fullSyncCell(cell, shard) {
  const done = shard.rdbBytesDone ?? 0;
  const total = shard.rdbBytesTotal;
  let bar = cell.querySelector('progress');
  let text = cell.querySelector('span');
  if (!bar) {
    bar = h('progress', { max: 1, value: 0, 'aria-label': `Full sync of shard ${shard.id}` });
    text = h('span');
    cell.replaceChildren(bar, text);
  }
  const finished = shard.phase === 'incremental' || shard.phase === 'completed' || shard.fullSyncs > 0;
  const ratio = typeof total === 'number' && total > 0 ? Math.min(1, done / total) : finished ? 1 : 0;
  bar.value = ratio;
  setText(
    text,
    typeof total === 'number' && total > 0
      ? ` ${Math.round(ratio * 100)}% of ${formatBytes(total)}`
      : finished
        ? ' done'
        : ` ${formatBytes(done)}`,
  );
}

function errorCell(cell, shard) {
  const error = shard.lastError;
  if (!error) {
    setText(cell, '–');
    return;
  }
  const code = cell.querySelector('strong');
  const message = cell.querySelector('span');
  if (!code || !message) {
    cell.replaceChildren(h('strong', {}, error.code), h('span', { class: 'fix' }, error.message));
    return;
  }
  setText(code, error.code);
  setText(message, error.message);
}

/** Listed keys shown per shard; the count is always the monitor's exact one. */
const SHOWN_MISMATCHES = 5;

/** The consistency monitor's findings (`shard.consistency`, present only when the plan enables it). */
function consistencyText(report) {
  if (typeof report !== 'object' || report === null) return 'off';
  const mismatches = typeof report.mismatches === 'number' ? report.mismatches : 0;
  const parts = [`${formatCount(mismatches)} mismatched of ${formatCount(report.checked)} checked`];
  const listed = Array.isArray(report.listed) ? report.listed.slice(0, SHOWN_MISMATCHES) : [];
  if (listed.length > 0) parts.push(listed.map((item) => `${item.key} (${item.kind})`).join(', '));
  if (mismatches > listed.length && listed.length > 0) parts.push('…');
  if (typeof report.error === 'string') parts.push(`not checking: ${report.error}`);
  return parts.join('; ');
}

function phaseCell(cell, shard) {
  let badge = cell.querySelector('.badge');
  if (!badge) {
    badge = h('span', { class: 'badge' });
    cell.replaceChildren(badge);
  }
  badge.dataset.phase = shard.phase;
  setText(badge, shard.phase);
}

/**
 * The shards of a plan, one row each, updated in place every poll (a focused Retry button keeps its focus).
 * `onRetry(shard)` is called when a row's Retry is pressed.
 */
export class ShardTable {
  constructor({ onRetry }) {
    this.onRetry = onRetry;
    this.body = h('tbody');
    this.shards = new Map();
    this.element = h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'shards cards' },
        h('caption', { class: 'visually-hidden' }, 'Shards of this plan'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Shard'),
            COLUMNS.map(([, label]) => h('th', { scope: 'col' }, label)),
          ),
        ),
        this.body,
      ),
    );
  }

  row(shard, index) {
    let row = this.body.querySelector(`tr[data-shard="${CSS.escape(shard.id)}"]`);
    if (row) return row;
    const retry = h('button', { type: 'button', class: 'small', 'data-action': 'retry' }, 'Retry');
    retry.setAttribute('aria-label', `Retry shard ${shard.id}`);
    retry.addEventListener('click', () => this.onRetry(this.shards.get(shard.id)));
    row = h(
      'tr',
      { 'data-shard': shard.id },
      h(
        'th',
        { scope: 'row', 'data-label': 'Shard' },
        h('span', { class: 'swatch', style: `background:${shardColour(index)}`, 'aria-hidden': 'true' }),
        shard.id,
      ),
      COLUMNS.map(([field, label]) =>
        h('td', { 'data-field': field, 'data-label': label }, field === 'actions' ? retry : null),
      ),
    );
    return row;
  }

  update(shards) {
    this.shards = new Map(shards.map((shard) => [shard.id, shard]));
    const rows = shards.map((shard, index) => {
      const row = this.row(shard, index);
      const cell = (field) => row.querySelector(`[data-field="${field}"]`);
      if (!cell('address').firstChild) {
        cell('address').append(
          h('code', { 'data-part': 'announced' }, shard.announced),
          ' → ',
          h('code', { 'data-part': 'reachable' }, shard.reachable),
        );
      }
      row.querySelector('[data-part=announced]').textContent = shard.announced;
      row.querySelector('[data-part=reachable]').textContent = shard.reachable;
      setText(cell('workerId'), shard.workerId ?? '–');
      phaseCell(cell('phase'), shard);
      fullSyncCell(cell('fullSync'), shard);
      setText(cell('lag'), `${formatBytes(shard.lagBytes)} / ${formatMs(shard.lagMs)}`);
      setText(cell('opsPerSecond'), formatCount(shard.opsPerSecond));
      setText(
        cell('offset'),
        `${formatOffset(shard.acknowledgedOffset)} / ${formatOffset(shard.sourceOffset)}`,
      );
      setText(cell('reconnects'), formatCount(shard.reconnects));
      setText(cell('resyncs'), `${formatCount(shard.partialSyncs)} / ${formatCount(shard.fullSyncs)}`);
      const cap = formatCaps(shard.rateCap);
      setText(cell('cap'), cap ? `${cap}${shard.rateCap.throttled ? ' (holding back)' : ''}` : 'none');
      setText(cell('consistency'), consistencyText(shard.consistency));
      errorCell(cell('lastError'), shard);
      const retry = row.querySelector('[data-action=retry]');
      retry.disabled = !RETRYABLE.has(shard.phase);
      return row;
    });
    syncChildren(this.body, rows);
  }
}
