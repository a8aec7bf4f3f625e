import { Router } from 'express';
import { RequestInvalidError } from '../errors/public-error.js';
import type { PlanService } from '../plan-service.js';
import type { LagHistory } from './lag-history.js';

/** `?since=<unix ms>`: only samples taken after it (the dashboard asks for what it has not drawn yet). */
function sinceOf(value: unknown): number {
  if (value === undefined) return 0;
  const since = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(since)) {
    throw new RequestInvalidError('QUERY_INVALID', 'since must be a unix time in milliseconds', [
      { field: 'since', reason: 'expected a non-negative integer' },
    ]);
  }
  return since;
}

/**
 * `GET /v1/plans/:id/history`: the shards' lag samples of the last hour (the coordinator's memory: empty after it
 * restarts). Authentication is app.ts's, as for every /v1 route.
 */
export function historyRouter(plans: PlanService, history: LagHistory): Router {
  const router = Router();
  router.get('/:id/history', async (req, res) => {
    const since = sinceOf(req.query.since);
    const plan = await plans.get(req.params.id);
    const now = Date.now();
    res.json({ id: plan.id, windowMs: history.windowMs, now, shards: history.forPlan(plan.id, since, now) });
  });
  return router;
}
