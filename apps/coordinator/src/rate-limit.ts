import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { TooManyRequestsError } from './errors/public-error.js';

/** Limits on the mutating API requests (POST, PUT, PATCH, DELETE under /v1), counted per client address. */
export interface RateLimitOptions {
  /**
   * Mutating requests one client address may make per window; 0 turns the limit off. Reads (GET: status,
   * metrics, the UI) are never limited: dashboards poll them.
   * @defaultValue 120
   */
  limit?: number;
  /** length of the counting window, in ms. @defaultValue 60000 */
  windowMs?: number;
}

export const DEFAULT_RATE_LIMIT = 120;
export const DEFAULT_RATE_WINDOW_MS = 60_000;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Guards against a runaway script or a token-guessing client: each submission costs discovery connections to
 * the source and queue writes, so they are budgeted per client address (IPv6 by /56, express-rate-limit's
 * default). Counts live in this process: with several coordinators behind a balancer each keeps its own. A
 * refused request is answered 429 problem+json with `Retry-After` (seconds). It sits before authentication, so
 * failed token attempts use up the budget too.
 */
export function mutationRateLimit(options: RateLimitOptions = {}): RequestHandler {
  const limit = options.limit ?? DEFAULT_RATE_LIMIT;
  const windowMs = options.windowMs ?? DEFAULT_RATE_WINDOW_MS;
  if (limit === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req) => !MUTATING.has(req.method),
    handler: (_req, _res, next) =>
      next(
        new TooManyRequestsError(
          `more than ${limit} changing request(s) from this address in ${Math.ceil(windowMs / 1000)} s; ` +
            "retry after the delay in Retry-After, or raise the coordinator's --rate-limit",
        ),
      ),
  });
}
