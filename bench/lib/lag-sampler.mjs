/**
 * Replication lag of a running sync, as the incremental and wan scenarios measure it: every 100 ms the source's
 * master_repl_offset is read (INFO, one connection); a 2 ms poll of the sync's acknowledged offset (confirmed by the
 * target) stamps when each sample's offset was reached. A sample's lag is the time from the INFO reply to that
 * moment, and in bytes the distance at the INFO reply. The clock starts when the offset is known: INFO waits in the
 * loaded source's queue for a while, and that wait is the source's latency, not the sync's; its round trip is kept
 * per sample (rttMs).
 */
import { performance } from 'node:perf_hooks';

const SAMPLE_INTERVAL_MS = 100;

/** The value at quantile `p` (0..1) of an ascending array; 0 when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Starts sampling `source` against `sync.progress.acknowledgedOffset`. stop() returns the samples by time
 * (`{ atMs, lagMs, lagBytes, rttMs, unconfirmed }`); one whose offset was never confirmed before stop() carries
 * `unconfirmed: true` and, as lagMs, the time it had waited so far (a lower bound).
 */
export function sampleLag(source, sync) {
  const client = source.client();
  const origin = performance.now();
  const pending = [];
  const samples = [];
  let running = true;
  const confirm = setInterval(() => {
    const acked = sync.progress.acknowledgedOffset;
    const now = performance.now();
    while (pending.length > 0 && pending[0].offset <= acked) {
      const sample = pending.shift();
      samples.push({
        atMs: sample.at - origin,
        lagMs: now - sample.at,
        lagBytes: sample.lagBytes,
        rttMs: sample.rttMs,
      });
    }
  }, 2);
  const loop = (async () => {
    while (running) {
      const asked = performance.now();
      const info = await client.info('replication');
      const at = performance.now();
      const rttMs = at - asked;
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
      const acked = sync.progress.acknowledgedOffset;
      if (offset > acked) pending.push({ at, offset, lagBytes: offset - acked, rttMs });
      else samples.push({ atMs: at - origin, lagMs: 0, lagBytes: 0, rttMs });
      const wait = SAMPLE_INTERVAL_MS - (performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  })();
  loop.catch(() => undefined); // stop() rethrows; until then a failed probe must not be an unhandled rejection
  return {
    async stop() {
      running = false;
      await loop;
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(confirm);
      client.disconnect();
      const now = performance.now();
      for (const sample of pending.splice(0)) {
        samples.push({
          atMs: sample.at - origin,
          lagMs: now - sample.at,
          lagBytes: sample.lagBytes,
          rttMs: sample.rttMs,
          unconfirmed: true,
        });
      }
      return samples.sort((a, b) => a.atMs - b.atMs);
    },
  };
}
