import { Router } from 'express';
import type { PlanService } from '../plan-service.js';
import type { StoredPlan } from '../plan-store.js';
import { parseSubmittedPlan } from '../plan-submission.js';
import type { ShardStatus } from '../shard-status.js';
import { planBody } from './plan-body.js';

/** Phase -> number of shards in it. */
export function phaseSummary(shards: ShardStatus[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const shard of shards) summary[shard.phase] = (summary[shard.phase] ?? 0) + 1;
  return summary;
}

function header(plan: StoredPlan) {
  return {
    id: plan.id,
    name: plan.plan.name,
    createdAt: new Date(plan.createdAt).toISOString(),
    state: plan.state,
    ...(plan.rollout ? { rollout: plan.rollout } : {}),
  };
}

/** `/v1/plans`: submit, list, inspect, stop, resume, retry one shard, delete. Authentication is app.ts's. */
export function plansRouter(plans: PlanService): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const plan = parseSubmittedPlan(planBody(req));
    const stored = await plans.create(plan);
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
      all.map(async (plan) => ({
        ...header(plan),
        shardCount: plan.shards.length,
        phases: phaseSummary(await plans.status(plan)),
      })),
    );
    res.json({ plans: items });
  });

  router.get('/:id', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const shards = await plans.status(plan);
    res.json({
      ...header(plan),
      source: plan.plan.source,
      target: plan.plan.target,
      phases: phaseSummary(shards),
      shards,
      topologyEvents: plan.topologyEvents ?? [],
    });
  });

  router.post('/:id/stop', async (req, res) => {
    const plan = await plans.get(req.params.id);
    await plans.stop(plan);
    res.status(202).json({ id: plan.id, state: 'stopped' });
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
