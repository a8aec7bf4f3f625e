import { api, plansPath } from './api.js';
import { h, setText, syncChildren } from './dom.js';
import { formatTime } from './format.js';

function phasesText(phases) {
  const entries = Object.entries(phases ?? {});
  return entries.length === 0 ? '–' : entries.map(([phase, count]) => `${phase} ${count}`).join(', ');
}

/** The plans list: one row per plan, linking to its page. */
export function plansListView() {
  const body = h('tbody');
  const empty = h(
    'p',
    { class: 'muted', hidden: true },
    'No plan yet. Submit one with `shardbridge submit`.',
  );
  const element = h(
    'section',
    { 'aria-labelledby': 'plans-title' },
    h('h2', { id: 'plans-title' }, 'Plans'),
    empty,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'plans cards' },
        h('caption', { class: 'visually-hidden' }, 'Plans of this coordinator'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Plan', 'Name', 'State', 'Shards', 'Phases', 'Created'].map((label) =>
              h('th', { scope: 'col' }, label),
            ),
          ),
        ),
        body,
      ),
    ),
  );

  async function refresh() {
    const { plans } = await api('GET', plansPath);
    empty.hidden = plans.length > 0;
    const rows = plans.map((plan) => {
      const row =
        body.querySelector(`tr[data-plan="${CSS.escape(plan.id)}"]`) ??
        h(
          'tr',
          { 'data-plan': plan.id },
          h('th', { scope: 'row', 'data-label': 'Plan' }, h('a', { href: `#/plans/${plan.id}` }, plan.id)),
          ['name', 'state', 'shardCount', 'phases', 'createdAt'].map((field, index) =>
            h('td', {
              'data-field': field,
              'data-label': ['Name', 'State', 'Shards', 'Phases', 'Created'][index],
            }),
          ),
        );
      setText(row.querySelector('[data-field=name]'), plan.name);
      setText(row.querySelector('[data-field=state]'), plan.state);
      setText(row.querySelector('[data-field=shardCount]'), String(plan.shardCount));
      setText(row.querySelector('[data-field=phases]'), phasesText(plan.phases));
      setText(row.querySelector('[data-field=createdAt]'), formatTime(plan.createdAt));
      return row;
    });
    syncChildren(body, rows);
  }

  return { element, title: 'Plans', refresh, dispose() {} };
}
