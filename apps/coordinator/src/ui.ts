import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';

type BoardOptions = Parameters<typeof createBullBoard>[0];

/** Path the queue UI is served under. */
export const UI_PATH = '/ui';

/**
 * bull-board over the shard queue. It shows job data, which holds addresses and secret references but never a
 * password (the API refuses literal ones).
 */
export function queueUiRouter(queue: Queue): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(UI_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue)],
    // @bull-board/express pins its own copy of @bull-board/api (9.10.1 vs 9.10.2 here): the same interface in two
    // declarations. They agree at runtime; the cast only bridges the duplicate types.
    serverAdapter: serverAdapter as unknown as BoardOptions['serverAdapter'],
    options: { uiConfig: { boardTitle: 'ShardBridge shards' } },
  });
  const router = serverAdapter.getRouter() as Router & { disable?: (setting: string) => void };
  // The adapter's router is an Express app of its own: it would announce itself on every UI answer.
  router.disable?.('x-powered-by');
  return router;
}
