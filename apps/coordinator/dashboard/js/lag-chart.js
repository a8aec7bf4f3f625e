import { h, svg } from './dom.js';

const WIDTH = 380;
const HEIGHT = 150;
const LEFT = 64;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;
/** The shortest time axis drawn. */
const MIN_SPAN_MS = 60_000;

function spanLabel(span) {
  return span >= 120_000 ? `−${Math.round(span / 60_000)} min` : `−${Math.round(span / 1000)} s`;
}

/** Line colours with at least 4.5:1 contrast on white, one per shard (they repeat past six). */
export const SHARD_COLOURS = ['#1f5fbf', '#b3261e', '#1e6b2f', '#6f3aa6', '#8a4b00', '#00636b'];

export function shardColour(index) {
  return SHARD_COLOURS[index % SHARD_COLOURS.length];
}

/**
 * A line chart of one value of every shard over the history window (inline SVG, no library). `update` redraws
 * it from `{ shardId: [{ at, value }] }`; the shards' order gives their colours, as in the legend.
 */
export class LagChart {
  constructor({ id, title, format }) {
    this.format = format;
    this.title = title;
    this.plot = svg('g');
    this.axis = svg('g', { class: 'axis' });
    this.graphic = svg(
      'svg',
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: 'img',
        'aria-labelledby': `${id}-title`,
        'aria-describedby': `${id}-summary`,
        preserveAspectRatio: 'xMidYMid meet',
      },
      this.axis,
      this.plot,
    );
    this.summary = h('p', { id: `${id}-summary`, class: 'chart-summary' });
    this.element = h(
      'figure',
      { class: 'chart', id },
      h('figcaption', { id: `${id}-title` }, title),
      this.graphic,
      this.summary,
    );
  }

  /** @param series Array of `{ shardId, samples: [{ at, value }] }`; `now` and `windowMs` set the time axis. */
  update(series, now, windowMs) {
    let max = 0;
    let oldest = now;
    for (const { samples } of series) {
      for (const { at, value } of samples) {
        max = Math.max(max, value);
        oldest = Math.min(oldest, at);
      }
    }
    // A young plan (or a restarted coordinator) has less than the window: the axis spans what there is, from a
    // minute up to the whole window, so its first minutes are not squeezed against the right edge.
    const span = Math.min(windowMs, Math.max(MIN_SPAN_MS, now - oldest));
    const from = now - span;
    const top = max > 0 ? max * 1.1 : 1;
    const x = (at) => LEFT + ((at - from) / span) * (WIDTH - LEFT - RIGHT);
    const y = (value) => TOP + (1 - value / top) * (HEIGHT - TOP - BOTTOM);

    this.axis.replaceChildren(
      svg('line', { x1: LEFT, y1: TOP, x2: LEFT, y2: HEIGHT - BOTTOM }),
      svg('line', { x1: LEFT, y1: HEIGHT - BOTTOM, x2: WIDTH - RIGHT, y2: HEIGHT - BOTTOM }),
      svg('text', { x: LEFT - 6, y: TOP + 10, 'text-anchor': 'end' }, this.format(top)),
      svg('text', { x: LEFT - 6, y: HEIGHT - BOTTOM, 'text-anchor': 'end' }, '0'),
      svg('text', { x: LEFT, y: HEIGHT - 6 }, spanLabel(span)),
      svg('text', { x: WIDTH - RIGHT, y: HEIGHT - 6, 'text-anchor': 'end' }, 'now'),
    );
    this.plot.replaceChildren(
      ...series.map(({ shardId, samples }, index) => {
        const points = samples
          .filter((sample) => sample.at >= from)
          .map((sample) => `${x(sample.at).toFixed(1)},${y(sample.value).toFixed(1)}`)
          .join(' ');
        return svg('polyline', {
          points,
          fill: 'none',
          stroke: shardColour(index),
          'stroke-width': 2,
          'data-shard': shardId,
        });
      }),
    );
    const latest = series.map(({ shardId, samples }) => {
      const last = samples[samples.length - 1];
      return `${shardId} ${last ? this.format(last.value) : 'no sample yet'}`;
    });
    this.summary.textContent =
      series.length === 0
        ? 'No samples yet: the coordinator samples every few seconds and keeps the last hour in memory.'
        : `Latest: ${latest.join('; ')}. Peak in the window: ${this.format(max)}.`;
  }
}
