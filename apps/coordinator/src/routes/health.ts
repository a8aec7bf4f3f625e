import { Router } from 'express';
import type { Redis } from 'ioredis';
import { sendProblem } from '../errors/error-handler.js';

/** How long /readyz waits for the queue Redis to answer PING. */
const READY_TIMEOUT_MS = 2_000;

async function pingWithin(redis: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const answer = redis.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process answers. `/readyz`: the queue Redis answers too (plans and jobs live there). */
export function healthRouter(redis: Redis): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    if (await pingWithin(redis, READY_TIMEOUT_MS)) {
      res.json({ status: 'ready' });
      return;
    }
    sendProblem(res, {
      type: 'urn:shardbridge:problem:queue-unavailable',
      title: 'Not ready',
      status: 503,
      detail: 'the queue Redis does not answer PING',
      instance: req.path,
      code: 'QUEUE_UNAVAILABLE',
    });
  });
  return router;
}
