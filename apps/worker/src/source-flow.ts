/** Why a shard stops reading its source for a while (`rate`: a rate or bandwidth cap is in debt). */
export type PauseReason = 'target' | 'checkpoint' | 'migration' | 'rate';

/**
 * Flow control of one replication link with several independent reasons to pause it: the target's full in-flight
 * window, a checkpoint that must be cleared before the first RESTORE, migrated keys held behind a barrier. The link
 * reads again only when none is left, so one reason ending never resumes a link another still holds.
 */
export class SourceFlow {
  private readonly reasons = new Set<PauseReason>();

  constructor(private readonly link: () => { pause(): void; resume(): void } | null) {}

  isPausedFor(reason: PauseReason): boolean {
    return this.reasons.has(reason);
  }

  pause(reason: PauseReason): void {
    this.reasons.add(reason);
    this.link()?.pause();
  }

  resume(reason: PauseReason): void {
    if (!this.reasons.delete(reason)) return;
    if (this.reasons.size === 0) this.link()?.resume();
  }

  /** A new link starts unpaused. */
  reset(): void {
    this.reasons.clear();
  }
}
