/**
 * Collects results for bench-results.json and prints each one as a readable table line as it arrives.
 * Units in the JSON are spelled out in the field names (seconds, bytes, MBps = 10^6 bytes per second).
 */

export const MB = 1e6;

export class Report {
  constructor(meta) {
    this.meta = meta;
    this.results = {};
  }

  /** Records `values` at the dotted `name` (`rdbParse.corpus.decode`) and prints `name  col  col ...`. */
  add(name, values, columns) {
    const keys = name.split('.');
    const last = keys.pop();
    let node = this.results;
    for (const key of keys) node = node[key] ??= {};
    node[last] = values;
    printLine(name, columns);
  }

  /** A measure that could not run (missing input): recorded and printed, not fatal. */
  skip(name, reason) {
    this.add(name, { skipped: reason }, [`skipped: ${reason}`]);
  }

  toJSON() {
    return { meta: this.meta, results: this.results };
  }
}

export function printHeading(text) {
  console.log(`\n== ${text}`);
}

function printLine(label, columns) {
  console.log(`  ${label.padEnd(34)} ${columns.join('  ')}`);
}

/** `12.3 MB/s` style helpers; numbers are rounded for the eye only, the JSON keeps them whole. */
export const fmt = {
  mb: (bytes) => `${(bytes / MB).toFixed(1)} MB`,
  mbps: (bytes, seconds) => `${(bytes / MB / seconds).toFixed(1)} MB/s`,
  rate: (count, seconds, unit) => `${Math.round(count / seconds).toLocaleString('en-US')} ${unit}/s`,
  seconds: (seconds) => `${seconds.toFixed(2)} s`,
  count: (n) => n.toLocaleString('en-US'),
};

export function round(value, digits = 3) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
