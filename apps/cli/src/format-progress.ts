import type { ShardProgress, ShardStopOutcome } from '@shardbridge/worker';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** One human line per progress report, e.g. for `shardbridge run`. */
export function formatProgress(p: ShardProgress): string {
  const parts = [`[${p.shardId}] ${p.phase}`];
  if (p.scan) {
    // scan mode: no RDB and no offsets, its own counters instead
    const s = p.scan;
    parts[0] = `[${p.shardId}] ${p.phase} (scan mode: ${s.phase})`;
    parts.push(`scanned ${s.keysScanned}`, `re-read ${s.keysReread}`, `deleted ${s.keysDeleted}`);
    parts.push(`waiting ${s.dirtyKeys}`);
    if (s.rescans) parts.push(`re-scans ${s.rescans}`);
    if (p.reconnects) parts.push(`reconnects ${p.reconnects}`);
    if (p.lastError && p.phase !== 'incremental')
      parts.push(`last error ${p.lastError.code}: ${p.lastError.message}`);
    return parts.join('  ');
  }
  if (p.phase === 'full-sync') {
    const total = p.rdbBytesTotal === null ? '?' : formatBytes(p.rdbBytesTotal);
    parts.push(`rdb ${formatBytes(p.rdbBytesDone)}/${total}`);
  }
  parts.push(`keys ${p.keysWritten}`, `commands ${p.commandsApplied}`);
  if (p.keysFiltered || p.commandsFiltered)
    parts.push(`filtered ${p.keysFiltered ?? 0} keys/${p.commandsFiltered ?? 0} commands`);
  if (p.keysSkippedExisting) parts.push(`kept existing ${p.keysSkippedExisting}`);
  if (p.keysSkippedExpired) parts.push(`expired ${p.keysSkippedExpired}`);
  // Nothing acknowledged yet (a full sync loading): the lag is unknown, not zero.
  if (p.sourceOffset >= 0)
    parts.push(
      `offset ${p.sourceOffset}`,
      p.acknowledgedOffset >= 0 ? `acked ${p.acknowledgedOffset}` : 'acked none yet',
      `lag ${p.acknowledgedOffset >= 0 ? formatBytes(p.lagBytes) : 'unknown'}`,
    );
  if (p.reconnects) parts.push(`reconnects ${p.reconnects}`);
  if (p.lastError && p.phase !== 'incremental')
    parts.push(`last error ${p.lastError.code}: ${p.lastError.message}`);
  return parts.join('  ');
}

/**
 * The last line of a stopped `run --direct`: what the stop saved, and only that. `checkpointDir` is named only when
 * a checkpoint is there. `outcome` null (an engine that reports none): the checkpoint state is not claimed.
 */
export function formatStopOutcome(outcome: ShardStopOutcome | null, checkpointDir: string): string {
  if (!outcome) return `stopped; resume points (if any) in ${checkpointDir}`;
  if (outcome.duringFullSync) {
    return (
      `stopped during the full sync: ${outcome.keysLoaded} keys loaded are kept on the target, no checkpoint: ` +
      'the next run starts a new full sync'
    );
  }
  const { checkpoint } = outcome;
  const at = checkpoint && `offset ${checkpoint.offset} of ${checkpoint.replid}`;
  if (outcome.checkpointError) {
    return (
      `stopped; the checkpoint could NOT be saved (${outcome.checkpointError}): ` +
      (at
        ? `the next run resumes from the last saved one, ${at} in ${checkpointDir}`
        : 'the next run starts a new full sync')
    );
  }
  if (!at) return 'stopped before any checkpoint was written: the next run starts with a full sync';
  return outcome.unconfirmedWrites
    ? `stopped; the target did not confirm every write in time: checkpoint at the last confirmed ${at} in ` +
        `${checkpointDir} (the rest is sent again on resume)`
    : `stopped at ${at}; checkpoint in ${checkpointDir}`;
}
