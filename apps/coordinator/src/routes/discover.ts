import { Router } from 'express';
import type { PlanService } from '../plan-service.js';
import { parseSubmittedPlan } from '../plan-submission.js';
import { planBody } from './plan-body.js';

/**
 * `/v1/discover`: the preflight of a plan (validated like `POST /v1/plans`), answered 200 with the report whether
 * or not it is ok — nothing is stored or queued. Authentication is app.ts's.
 */
export function discoverRouter(plans: PlanService): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const plan = parseSubmittedPlan(planBody(req));
    res.json(await plans.preflight(plan));
  });
  return router;
}
