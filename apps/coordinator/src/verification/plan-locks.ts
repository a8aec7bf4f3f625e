import { ConflictError } from '../errors/public-error.js';

/**
 * One verification or cutover per plan at a time, in this coordinator process. (Coordinators sharing one queue
 * Redis do not see each other's locks: run verifications and cutovers against one of them.)
 */
export class PlanLocks {
  private readonly held = new Map<string, string>();

  /** Takes the plan's lock for `what`, or throws 409 PLAN_BUSY naming what holds it. Returns the release. */
  acquire(planId: string, what: 'verification' | 'cutover'): () => void {
    const holder = this.held.get(planId);
    if (holder) {
      throw new ConflictError(
        'PLAN_BUSY',
        `plan "${planId}" has a ${holder} running; wait for it (\`shardbridge ${holder === 'cutover' ? 'cutover' : 'verify'} ` +
          `${planId} --result\`, GET /v1/plans/${planId}/${holder}) and try again`,
      );
    }
    this.held.set(planId, what);
    return () => {
      if (this.held.get(planId) === what) this.held.delete(planId);
    };
  }

  holder(planId: string): string | undefined {
    return this.held.get(planId);
  }
}
