import type { VerificationReport } from '@shardbridge/plan';

/** How many differences the human summary lists (the JSON report has the bounded list). */
const SHOWN = 20;

/** The operator's reading of a verification report: verdict, totals, per-shard lines, the first differences. */
export function renderVerification(report: VerificationReport): string {
  const { totals } = report;
  const verdict =
    report.status === 'clean'
      ? 'CLEAN: target matches source'
      : report.status === 'differences'
        ? 'DIFFERENCES FOUND'
        : report.status === 'failed'
          ? 'VERIFICATION FAILED'
          : 'running';
  const lines = [
    `verification ${report.id} of plan ${report.planId} (level ${report.settings.level}, ` +
      `${report.settings.rounds} round(s)): ${verdict}`,
    `  keys compared ${totals.keysCompared}, target keys checked ${totals.targetKeysChecked}`,
    `  missing ${totals.missing}  extra ${totals.extra}  type ${totals.type}  value ${totals.value}  ttl ${totals.ttl}`,
  ];
  if (report.reason) lines.push(`  reason: ${report.reason}`);
  for (const shard of report.shards) {
    const counts = shard.counts.map((count) => `db${count.db} ${count.source}/${count.target}`).join(' ');
    lines.push(
      `  ${shard.shardId.padEnd(16)} ${shard.status.padEnd(11)} keys ${shard.keysCompared}  rounds ${shard.roundsRun}` +
        (shard.transient ? `  in-flight (not reported) ${shard.transient}` : '') +
        (counts ? `  counts source/target ${counts}` : '') +
        `  versions ${shard.versions.source}/${shard.versions.target}`,
    );
  }
  for (const difference of report.differences.slice(0, SHOWN)) {
    const sides = `source ${difference.source.type} ttl ${difference.source.ttlMs}, target ${difference.target.type} ttl ${difference.target.ttlMs}`;
    lines.push(
      `  ${difference.kind.padEnd(7)} db${difference.db} ${JSON.stringify(difference.key)} [${difference.shard}] ${sides}` +
        (difference.detail ? ` — ${difference.detail}` : ''),
    );
  }
  const listed = Math.min(SHOWN, report.differences.length);
  const all = totals.missing + totals.extra + totals.type + totals.value + totals.ttl;
  if (all > listed) lines.push(`  … ${all - listed} more (see the JSON report: --json or --out)`);
  return `${lines.join('\n')}\n`;
}
