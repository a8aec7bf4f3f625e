import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const CLI = fileURLToPath(new URL('../../apps/cli/bin/shardbridge.js', import.meta.url));

/** A `shardbridge` process under test, with its output captured. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** resolves with the first stdout/stderr match; rejects after `timeoutMs` or when the process exits first */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const buildError = inject('buildError');
  if (buildError) throw new Error(buildError);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    notify();
  });
  let done = false;
  // 'close', not 'exit': by then stdout and stderr are drained, so the output is complete. `done` is set before
  // the waiters look, so a waitFor whose pattern never came fails at once instead of at its timeout.
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? -1);
      notify();
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern) ?? err.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          } else if (done) {
            cleanup();
            reject(
              new Error(`shardbridge exited before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `shardbridge` to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000) {
  const cli = startCli(args, env);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
