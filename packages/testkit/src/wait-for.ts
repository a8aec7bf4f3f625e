import { WaitTimeoutError } from './errors.js';
import { sleep } from './sleep.js';

/**
 * Polls `condition` every 20 ms until it holds. An error thrown by `condition` ends the wait at once (it is
 * not retried). Throws {@link WaitTimeoutError} naming `what` once `timeoutMs` has passed.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
