/**
 * Everything the bench starts (redis-servers, child processes, syncs) is registered here and torn down by
 * `releaseAll()`, which main() calls in `finally` and on SIGINT/SIGTERM. Teardown is best effort and never throws:
 * the first error of the run is the one worth seeing.
 */

const releasers = [];

/** Registers `release` (async, idempotent is not required: it is called at most once) and returns `value`. */
export function own(value, release) {
  releasers.push(release);
  return value;
}

/** Releases in reverse order of registration (a sync stops before the servers it talks to). */
export async function releaseAll() {
  while (releasers.length > 0) {
    const release = releasers.pop();
    try {
      await release();
    } catch (error) {
      console.error(`bench: cleanup step failed: ${error?.message ?? error}`);
    }
  }
}

/** Removes `release` from the list and runs it now (for resources a measure is done with). */
export async function releaseNow(release) {
  const index = releasers.indexOf(release);
  if (index >= 0) releasers.splice(index, 1);
  await release();
}
