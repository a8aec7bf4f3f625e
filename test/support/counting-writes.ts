import type { Redis } from 'ioredis';

/**
 * Non-idempotent writes until stopped: every RPUSH adds a unique token, every INCR and HINCRBY counts, and a
 * source MULTI … EXEC does both. A command applied twice on the target shows as a duplicated token or a higher
 * count. `stop()` resolves with the number of RPUSH/INCR pairs written (= the final `counter`).
 */
export function startCountingWrites(client: Redis): { stop(): Promise<number> } {
  let running = true;
  let next = 0;
  const loop = (async () => {
    while (running) {
      const pipeline = client.pipeline();
      for (let i = 0; i < 20; i++) {
        const n = next++;
        pipeline.rpush(`tokens:${n % 4}`, `t${n}`);
        pipeline.incr('counter');
        pipeline.hincrby('counts', `f${n % 10}`, 1);
      }
      pipeline.multi().incr('tx:counter').rpush('tx:tokens', `tx${next}`).exec();
      await pipeline.exec();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return next;
    },
  };
}
