// A small reader of the PromQL a dashboard or a scaler sends: which metric names it selects, with which label
// matchers, and which labels it groups by. Not a PromQL parser: functions, operators, numbers, range durations and
// Grafana variables outside matchers are skipped; enough to check every name against a scrape.

/** One `name{label op "value", …}` of a query. */
export interface SeriesSelector {
  metric: string;
  matchers: Array<{ label: string; op: '=' | '!=' | '=~' | '!~'; value: string }>;
}

/** What a query reads: its selectors and the labels of its `by`/`without`/`on`/`ignoring`/`group_*` lists. */
export interface QueryReferences {
  selectors: SeriesSelector[];
  groupingLabels: string[];
}

type Token = { kind: 'ident' | 'string' | 'punct' | 'other'; text: string };

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2']);
/** Aggregations may put `by (…)` between their name and their `(`: `sum by (phase) (x)`. */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let end = 1;
      let text = '';
      while (end < rest.length && rest[end] !== quote) {
        if (rest[end] === '\\' && quote !== '`') end++;
        text += rest[end];
        end++;
      }
      if (end >= rest.length) throw new Error(`unterminated string in ${expr}`);
      tokens.push({ kind: 'string', text });
      i += end + 1;
      continue;
    }
    if (rest[0] === '[') {
      // A range or subquery duration, e.g. [5m] or [$__rate_interval]: nothing to check inside.
      const end = rest.indexOf(']');
      if (end < 0) throw new Error(`unterminated [ in ${expr}`);
      i += end + 1;
      continue;
    }
    const variable = /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/.exec(rest);
    const number = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/.exec(rest);
    const ident = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest);
    const operator = /^(?:=~|!~|!=|==|>=|<=|[-+*/%^<>=])/.exec(rest);
    const match = variable ?? number ?? ident ?? operator;
    if (match) {
      tokens.push({ kind: ident && match === ident ? 'ident' : 'other', text: match[0] });
      i += match[0].length;
      continue;
    }
    if ('{}(),'.includes(rest[0]!)) {
      tokens.push({ kind: 'punct', text: rest[0]! });
      i += 1;
      continue;
    }
    throw new Error(`unexpected ${JSON.stringify(rest[0])} at ${i} in ${expr}`);
  }
  return tokens;
}

/** The selectors and grouping labels of one PromQL expression (Grafana variables allowed in strings and ranges). */
export function queryReferences(expr: string): QueryReferences {
  const tokens = tokenize(expr);
  const selectors: SeriesSelector[] = [];
  const groupingLabels: string[] = [];
  const at = (i: number) => tokens[i];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'punct' && token.text === '{') {
      throw new Error(`a selector without a metric name in ${expr}: name the metric`);
    }
    if (token.kind !== 'ident') continue;
    const next = at(i + 1);
    if (GROUPING.has(token.text)) {
      if (next?.text !== '(') continue; // group_left without a label list
      i += 2;
      for (; at(i) && at(i)!.text !== ')'; i++) {
        if (at(i)!.kind === 'ident') groupingLabels.push(at(i)!.text);
      }
      continue;
    }
    if (KEYWORDS.has(token.text) || AGGREGATIONS.has(token.text)) continue;
    if (next?.text === '(') continue; // a function or an aggregation
    const selector: SeriesSelector = { metric: token.text, matchers: [] };
    if (next?.text === '{') {
      i += 2;
      while (at(i) && at(i)!.text !== '}') {
        const label = at(i);
        const op = at(i + 1);
        const value = at(i + 2);
        if (
          label?.kind !== 'ident' ||
          !op ||
          !['=', '!=', '=~', '!~'].includes(op.text) ||
          value?.kind !== 'string'
        ) {
          throw new Error(`cannot read the matchers of ${token.text} in ${expr}`);
        }
        selector.matchers.push({
          label: label.text,
          op: op.text as SeriesSelector['matchers'][0]['op'],
          value: value.text,
        });
        i += 3;
        if (at(i)?.text === ',') i++;
      }
    }
    selectors.push(selector);
  }
  return { selectors, groupingLabels };
}

/** `label_values(<selector>, label)` of a Grafana template variable, as the same references. */
export function labelValuesReferences(query: string): QueryReferences {
  const match = /^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(query);
  if (!match) throw new Error(`not a label_values(metric, label) query: ${query}`);
  const inner = queryReferences(match[1]!);
  return { selectors: inner.selectors, groupingLabels: [...inner.groupingLabels, match[2]!] };
}

/** Labels a Grafana legend format names: `{{shard}}`. */
export function legendLabels(format: string | undefined): string[] {
  return [...(format ?? '').matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
}

/** Metric name -> label -> values seen, from a Prometheus text exposition (samples only). */
export type Scrape = Map<string, Map<string, Set<string>>>;

/** Reads the samples of a `/metrics` answer. */
export function parseExposition(text: string): Scrape {
  const scrape: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!match) throw new Error(`cannot read the exposition line ${line}`);
    const labels = scrape.get(match[1]!) ?? new Map<string, Set<string>>();
    scrape.set(match[1]!, labels);
    for (const pair of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(pair[1]!) ?? new Set<string>();
      values.add(pair[2]!);
      labels.set(pair[1]!, values);
    }
  }
  return scrape;
}

/**
 * What in `references` the scrape lacks, one line each (empty when all is there): metric names without samples,
 * labels a matcher or grouping names that the metric has no sample with, and literal `=` values (or each word of a
 * literal `a|b` regex) no sample carries. Matcher values with Grafana variables are left to the variables' checks.
 */
export function missingFromScrape(
  references: QueryReferences,
  scrape: Scrape,
  extraLabels: string[] = [],
): string[] {
  const problems: string[] = [];
  for (const { metric, matchers } of references.selectors) {
    const labels = scrape.get(metric);
    if (!labels) {
      problems.push(`${metric}: no such metric in /metrics`);
      continue;
    }
    for (const { label, op, value } of matchers) {
      const values = labels.get(label);
      if (!values) {
        problems.push(`${metric}: no label ${label}`);
        continue;
      }
      if (value.includes('$')) continue;
      const words =
        op === '=' ? [value] : op === '=~' && /^[\w-]+(\|[\w-]+)*$/.test(value) ? value.split('|') : [];
      for (const word of words)
        if (!values.has(word)) problems.push(`${metric}: no sample with ${label}="${word}"`);
    }
    for (const label of [...references.groupingLabels, ...extraLabels]) {
      if (!labels.has(label)) problems.push(`${metric}: no label ${label} (grouping or legend)`);
    }
  }
  return problems;
}
