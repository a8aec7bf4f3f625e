import type { ChildProcess } from 'node:child_process';

/**
 * Every redis-server this process spawned and has not seen exit. On process exit they are SIGKILLed, so a
 * crashed or forgotten test never leaves servers behind (stop() in afterAll/afterEach is still the norm).
 */
const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/** Track `child` until it exits. */
export function trackProcess(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** How many spawned servers are still alive (for tests of the testkit itself). */
export function liveProcessCount(): number {
  return live.size;
}
