import { Router } from 'express';
import type { VerificationReport } from '@shardbridge/plan';
import type { CutoverReport } from '../cutover/cutover-report.js';
import type { CutoverRunner } from '../cutover/cutover-runner.js';
import { cutoverRequestSchema } from '../cutover/cutover-settings.js';
import { ConflictError, NotFoundError } from '../errors/public-error.js';
import type { PlanService } from '../plan-service.js';
import type { PlanStore, StoredPlan } from '../plan-store.js';
import type { VerificationRunner } from '../verification/verification-runner.js';
import { withStaleness } from '../verification/stale-report.js';
import {
  DEFAULT_VERIFY_TIMEOUT_MS,
  verifyRequestSchema,
  verifySettingsOf,
} from '../verification/verify-settings.js';

export interface VerificationRoutesOptions {
  plans: PlanService;
  store: PlanStore;
  verification: VerificationRunner;
  cutover: CutoverRunner;
}

/**
 * `/v1/plans/:id/verify`, `/verification`, `/cutover`, `/cutover/confirm`. Both runs are long: the POSTs answer
 * 202 with the first report and a Location to poll; the stored report is the truth (also after they end).
 */
export function verificationRouter(options: VerificationRoutesOptions): Router {
  const { plans, store, verification, cutover } = options;
  const router = Router();

  router.post('/:id/verify', async (req, res) => {
    const plan = liveSourced(await plans.get(req.params.id), 'verified');
    const request = verifyRequestSchema.parse(req.body ?? {});
    const report = await verification.start(
      plan,
      verifySettingsOf(request),
      request.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
    );
    res.status(202).location(`${req.baseUrl}/${plan.id}/verification`).json(report);
  });

  router.get('/:id/verification', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const stored = await store.getReport<VerificationReport>(plan.id, 'verification');
    const report = stored && withStaleness(stored, ['clean', 'differences', 'failed']);
    if (!report) {
      throw new NotFoundError(
        'VERIFICATION_NOT_FOUND',
        `plan "${plan.id}" has not been verified yet; start one with \`shardbridge verify ${plan.id}\` ` +
          `(POST /v1/plans/${plan.id}/verify)`,
      );
    }
    if (req.query.download !== undefined) {
      res.attachment(`shardbridge-verification-${plan.id}-${report.id}.json`);
    }
    res.json(report);
  });

  router.post('/:id/cutover', async (req, res) => {
    const plan = liveSourced(await plans.get(req.params.id), 'cut over');
    const report = await cutover.start(plan, cutoverRequestSchema.parse(req.body ?? {}));
    res.status(202).location(`${req.baseUrl}/${plan.id}/cutover`).json(report);
  });

  router.post('/:id/cutover/confirm', async (req, res) => {
    const plan = await plans.get(req.params.id);
    if (!cutover.confirm(plan.id)) {
      throw new ConflictError(
        'CUTOVER_NOT_WAITING',
        `no cutover of plan "${plan.id}" waits for a confirmation (see \`shardbridge cutover ${plan.id} --result\`, ` +
          `GET /v1/plans/${plan.id}/cutover)`,
      );
    }
    res.status(202).json({ id: plan.id, confirmed: true });
  });

  router.get('/:id/cutover', async (req, res) => {
    const plan = await plans.get(req.params.id);
    const stored = await store.getReport<CutoverReport>(plan.id, 'cutover');
    const report = stored && withStaleness(stored, ['cut-over', 'failed']);
    if (!report) {
      throw new NotFoundError(
        'CUTOVER_NOT_FOUND',
        `plan "${plan.id}" has no cutover; start one with \`shardbridge cutover ${plan.id}\` ` +
          `(POST /v1/plans/${plan.id}/cutover)`,
      );
    }
    if (req.query.download !== undefined) res.attachment(`shardbridge-cutover-${plan.id}-${report.id}.json`);
    res.json(report);
  });

  return router;
}

/** A plan whose source is an RDB file has no live source to read: 409 rather than a failure deep in a worker. */
function liveSourced(plan: StoredPlan, what: string): StoredPlan {
  if (plan.plan.source.type === 'rdb') {
    throw new ConflictError(
      'SOURCE_NOT_LIVE',
      `plan "${plan.id}" imports an RDB file: there is no live source it could be ${what} against`,
    );
  }
  return plan;
}
