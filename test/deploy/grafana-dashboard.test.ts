import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '@shardbridge/plan';
import { startRedis, type RedisServer } from '@shardbridge/testkit';
import { startQueueRedis } from '../control-plane/support/cluster-data.js';
import {
  pollJson,
  postJson,
  startInProcessControlPlane,
  type InProcessControlPlane,
} from '../support/in-process-control-plane.js';
import { masterOffset } from '../support/sync-harness.js';
import { findObject, loadManifests, REPO_ROOT } from './support/manifests.js';
import {
  labelValuesReferences,
  legendLabels,
  missingFromScrape,
  parseExposition,
  queryReferences,
  type Scrape,
} from './support/promql.js';

// Issue 17, item 3: every metric and label the Grafana dashboard (and the workers' KEDA trigger) queries exists in
// the /metrics of a running coordinator whose plan has shards reporting progress and a finished verification.

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}
interface Variable {
  type: string;
  name: string;
  query: string | { query: string };
  /** what Grafana's editor shows of a query variable; must say the same as `query` */
  definition?: string;
}

const dashboardPath = join(REPO_ROOT, 'deploy', 'grafana', 'shardbridge-dashboard.json');
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
};
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const variables = dashboard.templating.list;
const variableQuery = (variable: Variable) =>
  typeof variable.query === 'string' ? variable.query : variable.query.query;

/** Every query of the dashboard with where it is, for failure messages. */
const dashboardQueries = queryPanels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, target })),
);

describe('PromQL reader (self-test)', () => {
  it('reads selectors, matchers and grouping labels; skips functions, numbers, ranges and variables', () => {
    expect(
      queryReferences(
        'sum by (phase) (rate(a_total{plan=~"$plan", x!="y"}[$__rate_interval])) / on(plan) group_left b > 0 and c == 1',
      ),
    ).toEqual({
      selectors: [
        {
          metric: 'a_total',
          matchers: [
            { label: 'plan', op: '=~', value: '$plan' },
            { label: 'x', op: '!=', value: 'y' },
          ],
        },
        { metric: 'b', matchers: [] },
        { metric: 'c', matchers: [] },
      ],
      groupingLabels: ['phase', 'plan'],
    });
    expect(labelValuesReferences('label_values(m{plan=~"$plan"}, shard)')).toEqual({
      selectors: [{ metric: 'm', matchers: [{ label: 'plan', op: '=~', value: '$plan' }] }],
      groupingLabels: ['shard'],
    });
    expect(() => queryReferences('{__name__="x"}')).toThrow(/without a metric name/);
    expect(legendLabels('{{plan}} / {{ shard }} full')).toEqual(['plan', 'shard']);
  });

  it('finds a missing metric, a missing label and a missing literal value in a scrape', () => {
    const scrape = parseExposition(
      '# HELP m help\n# TYPE m gauge\nm{state="waiting"} 1\nm{state="active"} 0\nn 3\n',
    );
    expect(missingFromScrape(queryReferences('m{state=~"waiting|active"} + n'), scrape)).toEqual([]);
    expect(missingFromScrape(queryReferences('sum by (plan) (m{state="paused"}) + o'), scrape)).toEqual([
      'm: no sample with state="paused"',
      'm: no label plan (grouping or legend)',
      'o: no such metric in /metrics',
    ]);
  });
});

describe('deploy/grafana dashboard against a running coordinator', () => {
  let queue: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let plane: InProcessControlPlane;
  let scrape: Scrape;

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startRedis(), startRedis()]);
    const src = source.client();
    for (let i = 0; i < 100; i++) await src.set(`key:${i}`, `value-${i}`);
    plane = await startInProcessControlPlane(queue);
    const created = await postJson(`${plane.url}/v1/plans`, {
      name: 'grafana-metrics',
      source: { type: 'standalone', seeds: [`${source.host}:${source.port}`] },
      target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const planId = created.body.id as string;
    // Writes during the live stream, so the shard reports lag, ops/s and offsets from a running session.
    for (let i = 0; i < 100; i++) await src.set(`live:${i}`, String(i));
    const goal = await masterOffset(source);
    await pollJson<{ shards: Array<{ phase: string; acknowledgedOffset: number }> }>(
      `${plane.url}/v1/plans/${planId}`,
      (plan) =>
        plan.shards.every((shard) => shard.phase === 'incremental' && shard.acknowledgedOffset >= goal),
    );
    const verification = await postJson(`${plane.url}/v1/plans/${planId}/verify`, { rounds: 1 });
    expect(verification.status, JSON.stringify(verification.body)).toBe(202);
    await pollJson<VerificationReport>(
      `${plane.url}/v1/plans/${planId}/verification`,
      (report) => report.id === verification.body.id && report.status !== 'running',
    );
    const metrics = await fetch(`${plane.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
    expect(metrics.status).toBe(200);
    scrape = parseExposition(await metrics.text());
  });

  afterAll(async () => {
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('is a Grafana dashboard with a Prometheus datasource variable and plan/shard variables', () => {
    expect(dashboard.uid).toBe('shardbridge');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(variables.map((variable) => `${variable.type}:${variable.name}`)).toEqual([
      'datasource:datasource',
      'query:plan',
      'query:shard',
    ]);
    expect(variables[0]!.query).toBe('prometheus');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.description, panel.title).toBeTruthy();
    }
    for (const { where, target } of dashboardQueries)
      expect(target.datasource.uid, where).toBe('${datasource}');
  });

  it('every metric, label and literal label value its panels query exists in /metrics', () => {
    expect(scrape.get('shardbridge_shard_phase')?.get('phase')).toContain('incremental');
    const problems = dashboardQueries.flatMap(({ where, target }) =>
      missingFromScrape(queryReferences(target.expr), scrape, legendLabels(target.legendFormat)).map(
        (problem) => `${where}: ${problem}`,
      ),
    );
    expect(problems).toEqual([]);
  });

  it('its template variables read labels that exist, and every $variable a query uses is defined', () => {
    const names = new Set(variables.map((variable) => variable.name));
    const problems = variables
      .filter((variable) => variable.type === 'query')
      .flatMap((variable) =>
        missingFromScrape(labelValuesReferences(variableQuery(variable)), scrape).map(
          (problem) => `variable ${variable.name}: ${problem}`,
        ),
      );
    expect(problems).toEqual([]);
    for (const variable of variables.filter((candidate) => candidate.type === 'query')) {
      expect(variable.definition, variable.name).toBe(variableQuery(variable));
    }
    const used = [
      ...dashboardQueries.map(({ target }) => target.expr),
      ...variables.map(variableQuery),
    ].flatMap((text) => [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!));
    expect(used.filter((name) => !name.startsWith('__') && !names.has(name))).toEqual([]);
  });

  it('covers lag, ops/s, phase, full sync progress, reconnects, resyncs, workers and queue depth', () => {
    const metrics = new Set(
      dashboardQueries.flatMap(({ target }) => queryReferences(target.expr).selectors.map((s) => s.metric)),
    );
    for (const metric of [
      'shardbridge_shard_lag_bytes',
      'shardbridge_shard_lag_seconds',
      'shardbridge_shard_ops_per_second',
      'shardbridge_shard_phase',
      'shardbridge_shard_rdb_bytes_done',
      'shardbridge_shard_reconnects',
      'shardbridge_shard_full_syncs',
      'shardbridge_shard_partial_syncs',
      'shardbridge_workers',
      'shardbridge_queue_jobs',
    ]) {
      expect(metrics, metric).toContain(metric);
    }
  });

  it("the workers' KEDA trigger queries a metric and labels that exist in /metrics", () => {
    const scaled = findObject(loadManifests(), 'ScaledObject', 'shardbridge-worker');
    const query = scaled.spec.triggers[0].metadata.query as string;
    expect(missingFromScrape(queryReferences(query), scrape)).toEqual([]);
  });
});
