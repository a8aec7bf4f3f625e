/**
 * A run in progress refreshes `heartbeatAt` every few seconds (verification: 2 s, cutover: 5 s). When it is older
 * than this, the coordinator that ran it stopped (restart, crash): the report is answered as `failed`, so no one
 * waits for a run that no longer exists.
 */
export const STALE_AFTER_MS = 60_000;

/** The report as it should be read now: an in-progress report without a recent heartbeat becomes `failed`. */
export function withStaleness<
  T extends { status: string; heartbeatAt?: string; reason?: string; writesStoppedBy?: string },
>(report: T, finalStatuses: readonly string[], now = Date.now()): T {
  if (finalStatuses.includes(report.status) || report.heartbeatAt === undefined) return report;
  const age = now - Date.parse(report.heartbeatAt);
  if (!(age > STALE_AFTER_MS)) return report;
  return {
    ...report,
    status: 'failed',
    reason:
      `interrupted at step ${report.status}: the coordinator running it stopped updating it at ${report.heartbeatAt} ` +
      '(restarted or crashed); start it again' +
      // Only a cutover that paused the source says so: a verification never pauses anything.
      (report.writesStoppedBy === 'client-pause'
        ? ' (the pause it had set on the source expires by itself)'
        : ''),
  };
}
