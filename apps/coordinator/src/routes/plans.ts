import { Router } from 'express';
import { planCapsSchema } from '@shardbridge/plan';
import type { PlanService } from '../plan-service.js';
import type { StoredPlan } from '../plan-store.js';
import { RequestInvalidError } from '../errors/public-error.js';
import { parseSubmittedPlan } from '../plan-submission.js';
import type { ShardStatus } from '../shard-status.js';
import { planBody } from './plan-body.js';

/** Phase -> number of shards in it. */
export function phaseSummary(shards: ShardStatus[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const shard of shards) summary[shard.phase] = (summary[shard.phase] ?? 0) + 1;
  return summary;
}

function header(plan: StoredPlan, state: string) {
  return {
    id: plan.id,
    name: plan.plan.name,
    createdAt: new Date(plan.createdAt).toISOString(),
    state,
    ...(plan.rollout ? { rollout: plan.rollout } : {}),
  };
}

/** `?replace=true` (or `1`): the submission re-plans over a stored plan of the same name. */
function replaceRequested(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new RequestInvalidError('QUERY_INVALID', 'replace must be true or false', [
    { field: 'replace', reason: 'expected true or false' },
  ]);
}

/** `/v1/plans`: submit, list, inspect, stop, resume, retry one shard, delete. Authentication is app.ts's. */
export function plansRouter(plans: PlanService): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const plan = parseSubmittedPlan(planBody(req));
    const stored = await plans.create(plan, { replace: replaceRequested(req.query.replace) });
    res
      .status(201)
      .location(`${req.baseUrl}/${stored.id}`)
      .json({
        id: stored.id,
        name: plan.name,
        shards: stored.shards.map(({ id, slots, announced, reachable, jobId }) => ({
          id,
          slots,
          announced,
          reachable,
          jobId,
        })),
      });
  });

  router.get('/', async (_req, res) => {
    const all = await plans.list();
    const items = await Promise.all(
      all.map(async (plan) => {
        const shards = await plans.status(plan);
        return {
          ...header(plan, plans.shownState(plan, shards)),
          shardCount: plan.shards.length,
          phases: phaseSummary(shards),
        };
      }),
    );
    res.json({ plans: items });
  });

  router.get('/:id', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const shards = await plans.status(plan);
    res.json({
      ...header(plan, plans.shownState(plan, shards)),
      source: plan.plan.source,
      target: plan.plan.target,
      plan: plan.plan,
      caps: await plans.caps(plan),
      phases: phaseSummary(shards),
      shards,
      topologyEvents: plan.topologyEvents ?? [],
    });
  });

  router.get('/:id/caps', async (req, res) => {
    const plan = await plans.get(req.params.id);
    res.json(await plans.caps(plan));
  });

  // The whole caps object is replaced (`{}` lifts every cap); a zod failure answers 400 with each field.
  router.put('/:id/caps', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const caps = planCapsSchema.parse(planBody(req));
    res.json(await plans.setCaps(plan, caps));
  });

  router.post('/:id/stop', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const state = await plans.stop(plan);
    res.status(202).json({ id: plan.id, state });
  });

  router.post('/:id/resume', async (req, res) => {
    const plan = await plans.get(req.params.id);
    await plans.resume(plan);
    res.status(202).json({ id: plan.id, state: 'active' });
  });

  router.post('/:id/shards/:shard/retry', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const shard = await plans.retryShard(plan, req.params.shard);
    res.status(202).json({ id: plan.id, shard: shard.id, state: 'queued' });
  });

  router.delete('/:id', async (req, res) => {
    const plan = await plans.get(req.params.id);
    await plans.delete(plan);
    res.status(204).end();
  });

  return router;
}
