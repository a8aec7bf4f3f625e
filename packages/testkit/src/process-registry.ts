import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Every redis-server this process spawned and has not seen exit, and every temp dir not yet removed. On
 * process exit the servers are SIGKILLed and the dirs removed (synchronously: 'exit' handlers cannot await),
 * so a crashed or forgotten test leaves nothing behind. stop() in afterAll/afterEach is still the norm.
 */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

function cleanUp(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort; a killed server may still be releasing files.
    }
  }
  dirs.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanUp);
}

/** Track `child` until it exits. */
export function trackProcess(child: ChildProcess): void {
  hook();
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A binary that cannot be spawned emits 'error' and never 'exit'.
  child.once('error', () => live.delete(child));
}

/** Remove `dir` at process exit unless {@link untrackDir} is called first. */
export function trackDir(dir: string): void {
  hook();
  dirs.add(dir);
}

/** `dir` was removed already. */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/** How many spawned servers are still alive (for tests of the testkit itself). */
export function liveProcessCount(): number {
  return live.size;
}
