/** How a bounded wait ended: the promise settled (`done`, or `failed` with its error) or the time ran out. */
export type Bounded = { kind: 'done' } | { kind: 'failed'; error: Error } | { kind: 'timeout' };

/**
 * Waits for `promise` at most `ms`. A stop must end even when a Redis on the way out does not answer (a target
 * under `CLIENT PAUSE … WRITE`, a queue Redis that is gone and an ioredis client that retries forever): the caller
 * gives up on what did not finish and says so. The promise keeps running; its later rejection is swallowed.
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<Bounded> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Bounded>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([
      promise.then(
        (): Bounded => ({ kind: 'done' }),
        (error: unknown): Bounded => ({
          kind: 'failed',
          error: error instanceof Error ? error : new Error(String(error)),
        }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Rejects with `reason` once `signal` aborts, else settles as `promise` does: awaits a stop can interrupt. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(reason());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
