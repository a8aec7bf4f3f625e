import { Router } from 'express';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Problem } from '../errors/error-handler.js';
import type { PlanService } from '../plan-service.js';
import type { PlanStore } from '../plan-store.js';
import type { ShardStatus } from '../shard-status.js';
import type { DifferenceKind, VerificationReport } from '@shardbridge/plan';

const DIFFERENCE_KINDS: readonly DifferenceKind[] = ['missing', 'extra', 'type', 'value', 'ttl'];

/** Per-shard gauges: metric name suffix -> how to read it from a status. Units are Prometheus base units. */
const SHARD_GAUGES: Array<[string, string, (shard: ShardStatus) => number]> = [
  [
    'lag_bytes',
    'stream bytes received from the source and not yet confirmed by the target',
    (s) => s.lagBytes,
  ],
  ['lag_seconds', 'age of the oldest unconfirmed source byte (0 when caught up)', (s) => s.lagMs / 1000],
  ['ops_per_second', 'commands applied to the target per second, as last reported', (s) => s.opsPerSecond],
  ['rdb_bytes_done', 'RDB bytes received in the current or last full sync', (s) => s.rdbBytesDone],
  [
    'rdb_bytes_total',
    'announced RDB size (0 when unknown: diskless or not started)',
    (s) => s.rdbBytesTotal ?? 0,
  ],
  ['keys_written', 'keys restored from RDBs since the worker took the job', (s) => s.keysWritten],
  ['keys_filtered', "RDB keys left out by the plan's filter", (s) => s.keysFiltered ?? 0],
  [
    'commands_filtered',
    "stream commands left out or cut down by the plan's filter",
    (s) => s.commandsFiltered ?? 0,
  ],
  [
    'keys_skipped_existing',
    'RDB keys the target already had and kept (targetMode skip-existing)',
    (s) => s.keysSkippedExisting ?? 0,
  ],
  ['keys_skipped_expired', 'RDB keys already expired, not written', (s) => s.keysSkippedExpired ?? 0],
  [
    'source_offset_bytes',
    'replication offset of the last byte received from the source',
    (s) => s.sourceOffset,
  ],
  ['acknowledged_offset_bytes', 'replication offset the target has confirmed', (s) => s.acknowledgedOffset],
  ['reconnects', 'reconnects to the source since the worker took the job', (s) => s.reconnects],
  ['full_syncs', 'full syncs since the worker took the job', (s) => s.fullSyncs],
  ['partial_syncs', 'partial syncs (PSYNC continue) since the worker took the job', (s) => s.partialSyncs],
  ['attempts', 'failed runs of the job since it was last queued', (s) => s.attempts],
  ['cap_ops_per_second', 'ops/s cap in force on the shard (0 = none)', (s) => s.rateCap?.opsPerSecond ?? 0],
  [
    'cap_bytes_per_second',
    'bytes/s cap in force on the shard (0 = none)',
    (s) => s.rateCap?.bytesPerSecond ?? 0,
  ],
  ['throttled', '1 while the shard holds its source back for a cap', (s) => (s.rateCap?.throttled ? 1 : 0)],
  [
    'throttled_seconds',
    'time the shard held its source back for a cap since the worker took it',
    (s) => (s.rateCap?.throttledMs ?? 0) / 1000,
  ],
  [
    'source_output_buffer_bytes',
    'bytes the source holds for the shard that the worker has not read (sampled)',
    (s) => s.outputBuffer?.backlogBytes ?? 0,
  ],
  [
    'source_output_buffer_limit_bytes',
    'client-output-buffer-limit replica of the source (0 = none or unknown)',
    (s) => s.outputBuffer?.limitBytes ?? 0,
  ],
  [
    'source_output_buffer_warning',
    '1 while the source output buffer is past half its limit (the link is at risk)',
    (s) => (s.outputBuffer?.warning ? 1 : 0),
  ],
  [
    'consistency_checked',
    'keys the consistency monitor compared since the worker took the shard (0 when the plan does not enable it)',
    (s) => s.consistency?.checked ?? 0,
  ],
  [
    'consistency_mismatches',
    'keys the consistency monitor confirmed differ on the target now',
    (s) => s.consistency?.mismatches ?? 0,
  ],
  [
    'consistency_unsettled',
    'keys that kept changing on the source while the monitor confirmed them (not judged)',
    (s) => s.consistency?.unsettled ?? 0,
  ],
  ['failed', '1 when the shard job has failed', (s) => (s.phase === 'failed' ? 1 : 0)],
];

const JOB_STATES = [
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'prioritized',
  'waiting-children',
] as const;

export interface CoordinatorMetrics {
  registry: Registry;
  /** counts an answered API error (for the error counter) */
  observeError(problem: Problem): void;
  /** counts a topology change the watcher recorded on a plan (resharding) */
  observeTopologyEvent(planId: string, kind: string): void;
}

/**
 * A registry of its own per coordinator (several can live in one process, e.g. in tests). Queue and shard gauges
 * are filled when /metrics is scraped, from the same reads the API does; nothing polls in the background.
 */
export function createMetrics(): CoordinatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shardbridge_coordinator_' });
  const apiErrors = new Counter({
    name: 'shardbridge_api_errors_total',
    help: 'API requests answered with a problem, by code and status',
    labelNames: ['code', 'status'],
    registers: [registry],
  });
  const topologyEvents = new Counter({
    name: 'shardbridge_topology_events_total',
    help: 'source topology changes recorded on plans (slots-moved, shard-added, shard-drained)',
    labelNames: ['plan', 'kind'],
    registers: [registry],
  });
  return {
    registry,
    observeError: (problem) => apiErrors.inc({ code: problem.code, status: String(problem.status) }),
    observeTopologyEvent: (planId, kind) => topologyEvents.inc({ plan: planId, kind }),
  };
}

export function metricsRouter(
  metrics: CoordinatorMetrics,
  plans: PlanService,
  store: PlanStore,
  queue: Queue,
): Router {
  const { registry } = metrics;
  const shardGauges = SHARD_GAUGES.map(
    ([suffix, help, read]) =>
      [
        new Gauge({
          name: `shardbridge_shard_${suffix}`,
          help,
          labelNames: ['plan', 'shard'],
          registers: [registry],
        }),
        read,
      ] as const,
  );
  const phase = new Gauge({
    name: 'shardbridge_shard_phase',
    help: '1 for the phase each shard is in',
    labelNames: ['plan', 'shard', 'phase'],
    registers: [registry],
  });
  const jobs = new Gauge({
    name: 'shardbridge_queue_jobs',
    help: 'shard jobs in the queue by BullMQ state',
    labelNames: ['state'],
    registers: [registry],
  });
  const workers = new Gauge({
    name: 'shardbridge_workers',
    help: 'workers with a heartbeat entry in the queue Redis',
    registers: [registry],
  });
  const plansGauge = new Gauge({
    name: 'shardbridge_plans',
    help: 'stored plans by desired state',
    labelNames: ['state'],
    registers: [registry],
  });

  const verificationGauge = new Gauge({
    name: 'shardbridge_verification_differences',
    help: 'differences of the latest finished verification of each plan, by kind (alert on > 0)',
    labelNames: ['plan', 'kind'],
    registers: [registry],
  });

  async function collect(): Promise<void> {
    const [all, counts, workerCount] = await Promise.all([
      plans.list(),
      queue.getJobCounts(...JOB_STATES),
      store.workerCount(),
    ]);
    const statuses = await Promise.all(all.map(async (plan) => ({ plan, shards: await plans.status(plan) })));
    // Reset first: shards of a deleted plan must disappear, not keep their last values.
    for (const [gauge] of shardGauges) gauge.reset();
    phase.reset();
    for (const { plan, shards } of statuses) {
      for (const shard of shards) {
        const labels = { plan: plan.id, shard: shard.id };
        for (const [gauge, read] of shardGauges) gauge.set(labels, read(shard));
        phase.set({ ...labels, phase: shard.phase }, 1);
      }
    }
    for (const state of JOB_STATES) jobs.set({ state }, counts[state] ?? 0);
    workers.set(workerCount);
    plansGauge.reset();
    plansGauge.set({ state: 'active' }, all.filter((plan) => plan.state === 'active').length);
    plansGauge.set({ state: 'stopped' }, all.filter((plan) => plan.state === 'stopped').length);
    plansGauge.set({ state: 'cut-over' }, all.filter((plan) => plan.state === 'cut-over').length);
    verificationGauge.reset();
    const reports = await Promise.all(
      all.map((plan) => store.getReport<VerificationReport>(plan.id, 'verification')),
    );
    for (const report of reports) {
      if (!report || report.status === 'running') continue;
      for (const kind of DIFFERENCE_KINDS) {
        verificationGauge.set({ plan: report.planId, kind }, report.totals[kind]);
      }
    }
  }

  // Scrapes that overlap share one collection: collect() resets the shard gauges, so two interleaved ones could
  // each render the other's half-filled state.
  let inflight: Promise<string> | null = null;
  const render = async () => {
    await collect();
    return registry.metrics();
  };

  const router = Router();
  router.get('/metrics', async (_req, res) => {
    inflight ??= render().finally(() => {
      inflight = null;
    });
    res.type(registry.contentType).send(await inflight);
  });
  return router;
}
