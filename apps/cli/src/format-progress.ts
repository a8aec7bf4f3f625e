import type { ShardProgress } from '@shardbridge/worker';

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
  if (p.sourceOffset >= 0)
    parts.push(`offset ${p.sourceOffset}`, `acked ${p.acknowledgedOffset}`, `lag ${formatBytes(p.lagBytes)}`);
  if (p.reconnects) parts.push(`reconnects ${p.reconnects}`);
  if (p.lastError && p.phase !== 'incremental')
    parts.push(`last error ${p.lastError.code}: ${p.lastError.message}`);
  return parts.join('  ');
}
