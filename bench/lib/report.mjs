/**
 * Collects results for bench/results/<timestamp>.json and prints each scenario as ONE table row as it finishes
 * (and the whole table again at the end, as markdown for the README). Units in the JSON are spelled out in the
 * field names (seconds, bytes, MBps = 10^6 bytes per second).
 */

export const MB = 1e6;

const COLUMNS = ['scenario', 'ShardBridge', 'reference', 'ratio', 'goal'];

export class Report {
  constructor(meta) {
    this.meta = meta;
    /** table rows, in run order */
    this.rows = [];
    /** full numbers per scenario id */
    this.results = {};
    this.headerPrinted = false;
  }

  /**
   * Records one scenario: `row` is what the table shows (`scenario`, `ours`, `reference`, `ratio`, `goal`, all
   * strings), `values` every number measured.
   */
  row(id, row, values) {
    const cells = [row.scenario, row.ours, row.reference ?? '—', row.ratio ?? '—', row.goal ?? '—'];
    this.rows.push({ id, cells });
    this.results[id] = values;
    if (!this.headerPrinted) {
      console.log(`\n${tableLine(COLUMNS)}\n${tableLine(COLUMNS.map(() => '---'))}`);
      this.headerPrinted = true;
    }
    console.log(tableLine(cells));
  }

  /** A scenario that could not run (missing tool, error): recorded and shown as a row, not fatal. */
  skip(id, scenario, reason) {
    this.row(id, { scenario, ours: `skipped: ${reason}` }, { skipped: reason });
  }

  /** The whole table as markdown. */
  table() {
    return [
      tableLine(COLUMNS),
      tableLine(COLUMNS.map(() => '---')),
      ...this.rows.map((r) => tableLine(r.cells)),
    ].join('\n');
  }

  toJSON() {
    return { meta: this.meta, table: this.rows.map((r) => r.cells), results: this.results };
  }
}

function tableLine(cells) {
  return `| ${cells.join(' | ')} |`;
}

export function printHeading(text) {
  console.log(`\n== ${text}`);
}

/** `12.3 MB/s` style helpers; numbers are rounded for the eye only, the JSON keeps them whole. */
export const fmt = {
  mb: (bytes) => `${(bytes / MB).toFixed(1)} MB`,
  mbps: (bytes, seconds) => `${(bytes / MB / seconds).toFixed(1)} MB/s`,
  rate: (count, seconds, unit) => `${Math.round(count / seconds).toLocaleString('en-US')} ${unit}/s`,
  seconds: (seconds) => `${seconds.toFixed(2)} s`,
  count: (n) => n.toLocaleString('en-US'),
  ratio: (value) => `${value.toFixed(2)}`,
};

export function round(value, digits = 3) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
