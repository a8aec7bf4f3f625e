import express from 'express';
import helmet from 'helmet';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import {
  LOG_REDACTION,
  SHARD_QUEUE,
  VERIFY_QUEUE,
  type ShardJobData,
  type VerifyJobData,
} from '@shardbridge/plan';
import { requireToken, requireUiToken } from './auth.js';
import { errorHandler, notFoundHandler } from './errors/error-handler.js';
import { openApiDocument } from './openapi.js';
import { PlanService } from './plan-service.js';
import { PlanStore } from './plan-store.js';
import { healthRouter } from './routes/health.js';
import { createMetrics, metricsRouter } from './routes/metrics.js';
import { plansRouter } from './routes/plans.js';
import { discoverRouter } from './routes/discover.js';
import { defaultPreflight, type RunPreflight } from './preflight.js';
import { RolloutWatcher } from './rollout-watcher.js';
import { TopologyWatcher } from './topology-watcher.js';
import { defaultDiscover, type DiscoverShards } from './shard-discovery.js';
import { queueUiRouter, UI_PATH } from './ui.js';
import { CutoverRunner } from './cutover/cutover-runner.js';
import { verificationRouter } from './routes/verification-routes.js';
import { PlanLocks } from './verification/plan-locks.js';
import { VerificationRunner } from './verification/verification-runner.js';
import { mutationRateLimit, type RateLimitOptions } from './rate-limit.js';
import { HistorySampler } from './dashboard/history-sampler.js';
import { historyRouter } from './dashboard/history-route.js';
import { LagHistory } from './dashboard/lag-history.js';
import { dashboardRouter } from './dashboard/static-route.js';

export interface CoordinatorOptions {
  /** the queue's Redis: a `redis://` URL or ioredis options. Plans, controls and BullMQ jobs all live there. */
  queue: string | RedisOptions;
  /**
   * Bearer token required by everything under /v1 and /ui (SHARDBRIDGE_API_TOKEN). Unset = no authentication.
   * @defaultValue undefined
   */
  apiToken?: string;
  /** @defaultValue pino at level `info` on stdout */
  logger?: Logger;
  /** @defaultValue `discoverSourceShards` of @shardbridge/plan */
  discover?: DiscoverShards;
  /** @defaultValue `preflightPlan` of @shardbridge/plan */
  preflight?: RunPreflight;
  /** how often pending canary rollouts are checked. @defaultValue 1000 */
  rolloutIntervalMs?: number;
  /**
   * How often the source topology of active cluster-source plans is re-read to follow resharding (moved slots,
   * added or drained shards; see TopologyWatcher). 0 turns it off.
   * @defaultValue 10000
   */
  topologyCheckMs?: number;
  /** connect timeout of each source node during discovery. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** BullMQ `attempts` of each shard job (a worker retries reconnects itself). @defaultValue 1 */
  jobAttempts?: number;
  /**
   * Budget of mutating requests (POST/PUT/PATCH/DELETE under /v1) per client address; answered 429 problem+json
   * with `Retry-After` beyond it. `{ limit: 0 }` turns it off. See {@link RateLimitOptions}.
   * @defaultValue `{ limit: 120, windowMs: 60000 }`
   */
  rateLimit?: RateLimitOptions;
  /**
   * Largest accepted JSON request body, in bytes; a larger one is answered 413 problem+json (BODY_TOO_LARGE)
   * before it is parsed. A plan is a few KiB.
   * @defaultValue 262144 (256 KiB)
   */
  bodyLimitBytes?: number;
  /**
   * How often every active plan's shards are sampled into the dashboard's lag history (the last hour, kept in
   * memory; GET /v1/plans/:id/history). 0 turns sampling off.
   * @defaultValue 5000
   */
  historyIntervalMs?: number;
}

export interface Coordinator {
  app: express.Express;
  /** closes the queue and its Redis connection; the HTTP server (if any) is the caller's */
  close(): Promise<void>;
}

/** Body limit of JSON requests: a plan is a few KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

/** Header and cookie names (with the query token) that must never reach a log line. */
const REDACTED = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

interface LoggedRequest {
  id: unknown;
  method: string;
  url?: string;
  headers: Record<string, unknown>;
  remoteAddress?: string;
}

function scrubUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&]*/g, '$1[redacted]');
}

function connect(queue: string | RedisOptions): Redis {
  // A bounded retry per command: /readyz and the API fail fast while the queue Redis is down instead of hanging.
  const overrides: RedisOptions = { maxRetriesPerRequest: 1 };
  return typeof queue === 'string' ? new Redis(queue, overrides) : new Redis({ ...queue, ...overrides });
}

/** Builds the coordinator's Express app over the queue Redis. Listening is left to the caller (see startCoordinator). */
export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const logger = options.logger ?? pino({ name: 'shardbridge-coordinator', redact: LOG_REDACTION });
  const redis = connect(options.queue);
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'queue redis connection error'));
  const queue = new Queue<ShardJobData>(SHARD_QUEUE, { connection: redis });
  queue.on('error', (error: Error) => logger.warn({ err: error }, 'shard queue error'));

  const verifyQueue = new Queue<VerifyJobData>(VERIFY_QUEUE, { connection: redis });
  verifyQueue.on('error', (error: Error) => logger.warn({ err: error }, 'verify queue error'));

  const store = new PlanStore(redis);
  const discover = options.discover ?? defaultDiscover;
  const plans = new PlanService({
    queue,
    store,
    discover,
    preflight: options.preflight ?? defaultPreflight,
    logger,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    jobAttempts: options.jobAttempts ?? 1,
  });
  const locks = new PlanLocks();
  const verification = new VerificationRunner({ queue: verifyQueue, store, locks, logger });
  const cutover = new CutoverRunner({ plans, store, verification, locks, logger });
  const metrics = createMetrics();
  const rollouts = new RolloutWatcher({ plans, logger, intervalMs: options.rolloutIntervalMs });
  rollouts.start();
  const topology = new TopologyWatcher({
    plans,
    discover,
    logger,
    intervalMs: options.topologyCheckMs,
    connectTimeoutMs: options.connectTimeoutMs,
    onEvent: (planId, event) => metrics.observeTopologyEvent(planId, event.kind),
  });
  topology.start();
  const history = new LagHistory({ intervalMs: options.historyIntervalMs });
  const sampler = new HistorySampler({ plans, history, logger, intervalMs: options.historyIntervalMs });
  sampler.start();

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // No upgrade-insecure-requests: the coordinator commonly listens on plain HTTP inside a private network, and the
  // directive would send the UI's own scripts to an https:// port that does not exist.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(
    pinoHttp({
      logger,
      redact: { paths: REDACTED, censor: '[redacted]' },
      // Only what identifies the request: the query (it may hold the UI token) and response headers stay out.
      serializers: {
        req: (req: LoggedRequest) => ({
          id: req.id,
          method: req.method,
          url: scrubUrl(req.url),
          headers: req.headers,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(healthRouter(redis));
  app.use(metricsRouter(metrics, plans, store, queue));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  const json = express.json({ limit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, strict: true });
  app.use('/v1', mutationRateLimit(options.rateLimit));
  app.use(
    '/v1/plans',
    requireToken(options.apiToken),
    json,
    plansRouter(plans),
    verificationRouter({ plans, store, verification, cutover }),
  );
  app.use('/v1/discover', requireToken(options.apiToken), json, discoverRouter(plans));
  app.use('/v1/plans', requireToken(options.apiToken), historyRouter(plans, history));
  app.use(dashboardRouter());
  app.use(UI_PATH, requireUiToken(options.apiToken), queueUiRouter(queue));
  app.use(notFoundHandler(metrics.observeError));
  app.use(errorHandler(logger, metrics.observeError));

  return {
    app,
    async close() {
      await rollouts.stop();
      await topology.stop();
      await sampler.stop();
      await queue.close();
      await verifyQueue.close();
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
