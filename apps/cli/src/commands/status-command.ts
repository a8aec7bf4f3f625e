import { connectApi, type ApiCommandOptions } from '../api-client.js';
import type { ConsistencyReport, PlanCaps, ShardRateCapState, SourceOutputBuffer } from '@shardbridge/plan';
import { formatBytes } from '../format-progress.js';
import { describeCaps } from './caps-command.js';

export interface StatusCommandOptions extends ApiCommandOptions {
  json: boolean;
  /** refresh until the plan is done (see `planSettled`) or Ctrl-C */
  watch: boolean;
  /** @defaultValue 1000 */
  intervalMs?: number;
}

/** The subset of GET /v1/plans/:id that the status view shows. */
export interface PlanStatusView {
  id: string;
  name: string;
  state: string;
  /** the plan's caps in force (absent from older coordinators) */
  caps?: PlanCaps;
  shards: Array<{
    id: string;
    phase: string;
    /** BullMQ's state of the shard's job (`active` while a worker runs it) */
    jobState?: string;
    rdbBytesDone?: number;
    rdbBytesTotal?: number | null;
    keysWritten?: number;
    lagBytes?: number;
    lagMs?: number;
    opsPerSecond?: number;
    attempts?: number;
    workerId?: string | null;
    lastError?: { code: string; message: string } | null;
    /** scan mode only */
    scan?: { keysScanned: number; keysReread: number; rescans: number; dirtyKeys: number };
    addedAt?: number;
    drainedAt?: number;
    migrationBarrierTimeouts?: number;
    rateCap?: ShardRateCapState;
    outputBuffer?: SourceOutputBuffer;
    consistency?: ConsistencyReport;
  }>;
  topologyEvents?: Array<{
    at: number;
    kind: string;
    from?: string;
    to?: string;
    slots: Array<[number, number]>;
  }>;
}

/** How many topology events the status view lists (the newest). */
const SHOWN_EVENTS = 10;

function slotText(slots: Array<[number, number]>): string {
  return slots.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(',') || '-';
}

const BAR_WIDTH = 20;

function bar(fraction: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

/** A shard's completion: RDB progress during full sync, 100% once streaming. */
function shardFraction(shard: PlanStatusView['shards'][number]): number {
  if (shard.phase === 'incremental' || shard.phase === 'stopped' || shard.phase === 'completed') return 1;
  if (shard.phase === 'full-sync' && shard.rdbBytesTotal)
    return (shard.rdbBytesDone ?? 0) / shard.rdbBytesTotal;
  return 0;
}

export function renderPlanStatus(plan: PlanStatusView): string {
  const lines = [`plan ${plan.id} (${plan.name}): ${plan.state}`];
  if (plan.caps) lines.push(`caps: ${describeCaps(plan.caps)}`);
  for (const shard of plan.shards) {
    const fraction = shardFraction(shard);
    const parts = [
      `  ${shard.id.padEnd(16)} ${shard.phase.padEnd(11)} ${bar(fraction)} ${String(Math.round(fraction * 100)).padStart(3)}%`,
      `lag ${formatBytes(shard.lagBytes ?? 0)} / ${shard.lagMs ?? 0} ms`,
      `${Math.round(shard.opsPerSecond ?? 0)} ops/s`,
      `keys ${shard.keysWritten ?? 0}`,
    ];
    if (shard.scan) {
      const { keysScanned, keysReread, rescans, dirtyKeys } = shard.scan;
      parts.push(
        `scan: scanned ${keysScanned} re-read ${keysReread} waiting ${dirtyKeys} re-scans ${rescans}`,
      );
    }
    if (shard.workerId) parts.push(`on ${shard.workerId}`);
    if (shard.attempts) parts.push(`attempts ${shard.attempts}`);
    if (shard.addedAt) parts.push('added by resharding');
    if (shard.drainedAt) parts.push('drained (no slots)');
    if (shard.migrationBarrierTimeouts) parts.push(`barrier timeouts ${shard.migrationBarrierTimeouts}`);
    const cap = shard.rateCap;
    if (cap && (cap.opsPerSecond !== null || cap.bytesPerSecond !== null)) {
      const limits = [
        cap.opsPerSecond === null ? '' : `${cap.opsPerSecond} ops/s`,
        cap.bytesPerSecond === null ? '' : `${formatBytes(cap.bytesPerSecond)}/s`,
      ].filter(Boolean);
      parts.push(`cap ${limits.join(', ')}${cap.throttled ? ' (throttled)' : ''}`);
    }
    lines.push(parts.join('  '));
    const buffer = shard.outputBuffer;
    if (buffer?.warning && buffer.backlogBytes !== null && buffer.limitBytes !== null) {
      lines.push(
        `      WARNING: the source holds ${formatBytes(buffer.backlogBytes)} for this shard, ` +
          `${Math.round((buffer.backlogBytes / buffer.limitBytes) * 100)}% of its client-output-buffer-limit ` +
          `replica (${formatBytes(buffer.limitBytes)}); at 100% it drops the link (full resync): raise the cap ` +
          '(`shardbridge caps`) or the limit on the source',
      );
    }
    const consistency = shard.consistency;
    if (consistency) {
      lines.push(
        `      consistency: ${consistency.checked} keys checked, ${consistency.passes} passes, ` +
          `${consistency.mismatches} mismatched${consistency.error ? ` (paused: ${consistency.error})` : ''}`,
      );
      for (const key of consistency.listed) {
        lines.push(`      MISMATCH db ${key.db} ${JSON.stringify(key.key)}: ${key.kind}`);
      }
    }
    if (shard.lastError && shard.phase !== 'incremental') {
      lines.push(`      last error ${shard.lastError.code}: ${shard.lastError.message}`);
    }
  }
  const events = plan.topologyEvents ?? [];
  if (events.length > 0) {
    lines.push(`topology events (${events.length}, newest last):`);
    for (const event of events.slice(-SHOWN_EVENTS)) {
      const who = event.kind === 'slots-moved' ? `${event.from} -> ${event.to}` : (event.to ?? event.from);
      lines.push(
        `  ${new Date(event.at).toISOString()}  ${event.kind.padEnd(13)} ${who}  slots ${slotText(event.slots)}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * A plan `--watch` stops following: `completed` (a one-shot sync that finished), `cut-over`, or `stopped` with no
 * shard job still running (every worker has flushed and checkpointed).
 */
export function planSettled(plan: PlanStatusView): boolean {
  if (plan.state === 'completed' || plan.state === 'cut-over') return true;
  return plan.state === 'stopped' && plan.shards.every((shard) => shard.jobState !== 'active');
}

/**
 * `shardbridge status <planId>`: per-shard phase, progress, lag and throughput. `--watch` refreshes until the plan
 * settles (exit 0) or Ctrl-C.
 */
export async function statusCommand(planId: string, options: StatusCommandOptions): Promise<void> {
  const api = await connectApi(options);
  const path = `/v1/plans/${encodeURIComponent(planId)}`;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  try {
    do {
      const plan = await api.request<PlanStatusView>('GET', path);
      if (options.json) process.stdout.write(`${JSON.stringify(plan)}\n`);
      else {
        const text = renderPlanStatus(plan);
        process.stdout.write(options.watch && process.stdout.isTTY ? `\x1b[2J\x1b[H${text}\n` : `${text}\n`);
      }
      if (!options.watch || planSettled(plan)) break;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
    } while (!stop);
  } finally {
    process.off('SIGINT', onSignal);
  }
}
