/** How long a long-running command may take to stop after the first SIGINT/SIGTERM. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

/** Exit code of a stop that was forced: a second signal, or a stop past its bound. */
export const EXIT_FORCED = 1;

export interface ShutdownSignalOptions {
  /**
   * The bound: this long after the first signal the process exits whatever is still pending (exit 1, saying so).
   * The command's own graceful stop is given less (see {@link shutdownBudget}), so it normally ends first.
   * @defaultValue 20000 ({@link DEFAULT_SHUTDOWN_TIMEOUT_MS})
   */
  timeoutMs?: number;
  /** what the first signal starts, for its line, e.g. `stopping — flushing the target and saving the checkpoint` */
  action?: string;
  /** where the lines go. @defaultValue stderr */
  write?: (line: string) => void;
}

/** How a command splits its shutdown bound: the shards' flush and checkpoint, then the hand-back of their jobs. */
export function shutdownBudget(timeoutMs: number): { shardStopMs: number; workerStopMs: number } {
  return { shardStopMs: Math.round(timeoutMs / 2), workerStopMs: Math.round((timeoutMs * 3) / 4) };
}

/**
 * Resolves with the first SIGINT or SIGTERM, after printing what happens now, the bound, and that a second signal
 * forces the exit. The process keeps running while the caller stops gracefully, but never past `timeoutMs`: then it
 * exits 1, saying the stop did not finish. A second signal exits at once (1, saying nothing more is saved).
 */
export function waitForShutdownSignal(options: ShutdownSignalOptions = {}): Promise<NodeJS.Signals> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  return new Promise((resolve) => {
    let first: NodeJS.Signals | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first !== null) {
        write(`second ${signal}: exiting at once; nothing more is saved`);
        process.exit(EXIT_FORCED);
      }
      first = signal;
      const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`;
      write(
        `${signal}: ${options.action ?? 'stopping'} (exits within ${seconds(timeoutMs)}; ${again} to exit at once)`,
      );
      // unref: a stop that finishes lets the process end on its own; only one that hangs meets this timer.
      setTimeout(() => {
        write(
          `the stop did not finish within ${seconds(timeoutMs)} (a Redis that does not answer: the target or the ` +
            'queue): exiting now; writes not confirmed by then are not in the checkpoint and are sent again on resume',
        );
        process.exit(EXIT_FORCED);
      }, timeoutMs).unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * After a command's stop returned: connections a forced stop could not close (an ioredis client still retrying a
 * queue Redis that is gone) must not keep the process alive. Exits with the current exit code once `graceMs` has
 * passed, unless the process ended on its own before.
 */
export function exitSoonAfterStop(graceMs = 1000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), graceMs).unref();
}
