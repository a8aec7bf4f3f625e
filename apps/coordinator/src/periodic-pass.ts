import type { Logger } from 'pino';

/**
 * Runs `pass` every `intervalMs`, one pass at a time: a pass still running when the next is due (a slow queue
 * Redis or source) makes that one skip instead of piling up. A failed pass is logged as `<what> failed` and the
 * next one runs as usual. The timer does not keep the process alive. `intervalMs` 0 or less: never runs.
 */
export class PeriodicPass {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.#timer || this.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.pass()
        .catch((error: unknown) => this.logger.warn({ err: error }, `${this.what} failed`))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
