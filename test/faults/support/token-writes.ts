import type { Redis } from 'ioredis';
import type { ClusterRouter } from '../../control-plane/support/cluster-router.js';

/** Counters of a {@link startTokenWrites} load once stopped. */
export interface TokenWriteStats {
  /** transactions the source confirmed */
  acknowledged: number;
  /** transactions that failed (source down or restarting): each may or may not have been applied */
  failed: number;
}

/** Lists and hashes a token load writes to, each under one hash tag (so one writer = one slot = one master). */
export const TOKEN_KEY_PREFIX = 'tok:';

/**
 * A continuous write load whose replay is visible: each of `writersPerMaster` writers per master appends unique
 * tokens (`<writer>:<n>`) to its own list, one `MULTI RPUSH HSET EXEC` at a time, plus idempotent `SET`s. RPUSH
 * is not idempotent, so a command the target applies twice leaves its token twice in the list, and a lost one
 * leaves a hole: {@link compareTokens} counts both exactly. A failed write (the source master restarting) is
 * counted and the writer carries on: the source's lists, not the writer's view, are the truth compared against.
 */
export function startTokenWrites(
  router: ClusterRouter,
  options: { name: string; writersPerMaster?: number; pauseMs?: number },
): { stop(): Promise<TokenWriteStats> } {
  const perMaster = options.writersPerMaster ?? 2;
  const tags = tagsPerMaster(router, perMaster);
  const stats: TokenWriteStats = { acknowledged: 0, failed: 0 };
  let running = true;
  const writer = async (tag: string, index: number) => {
    const client = router.client(tag);
    const list = `${TOKEN_KEY_PREFIX}${tag}:${options.name}:list`;
    for (let n = 0; running; n++) {
      const token = `${options.name}-${index}:${n}`;
      try {
        await client
          .multi()
          .rpush(list, token)
          .hset(`${TOKEN_KEY_PREFIX}${tag}:${options.name}:hash`, `f${n % 50}`, token)
          .set(`${TOKEN_KEY_PREFIX}${tag}:${options.name}:str:${n % 20}`, token)
          .exec();
        stats.acknowledged++;
      } catch {
        stats.failed++;
        await pause(100);
      }
      await pause(options.pauseMs ?? 4);
    }
  };
  const loops = tags.map((tag, index) => writer(tag, index));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ...stats };
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` hash tags for each master of the router, so every shard carries the load. */
function tagsPerMaster(router: ClusterRouter, count: number): string[] {
  const byClient = new Map<Redis, string[]>();
  for (
    let i = 0;
    [...byClient.values()].reduce((n, tags) => n + tags.length, 0) < count * router.masters().length;
    i++
  ) {
    const tag = `{t${i}}`;
    const client = router.client(tag);
    const tags = byClient.get(client) ?? [];
    if (tags.length < count) tags.push(tag);
    byClient.set(client, tags);
    if (i > 10_000) throw new Error('could not spread hash tags over the masters');
  }
  return [...byClient.values()].flat();
}
