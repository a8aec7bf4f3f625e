import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when `tsc -b` succeeded, else its output */
    buildError: string | null;
  }
}

/**
 * The end-to-end suites run the real `shardbridge` binary, which executes the built output: build it first so a
 * test never runs stale code (incremental, so cheap when nothing changed). A failed build fails only the suites
 * that start the binary (see `startCli`), with the compiler's output as the reason.
 */
export default function setup(project: TestProject): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'pipe' });
    project.provide('buildError', null);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    project.provide('buildError', `tsc -b failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
