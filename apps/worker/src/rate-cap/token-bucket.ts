/**
 * A token bucket that may go into debt: `take` always accepts (what was read from the source must be written) and
 * says how long to wait before the next take. Over any interval of T seconds it lets through at most
 * `rate × T + burst + one take`, so a cap holds as an upper bound whatever the sizes of the takes.
 *
 * Pure: time comes in as an argument (ms, monotonic).
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  /**
   * @param rate tokens per second
   * @param burstSeconds how many seconds of `rate` may pass at once after an idle spell
   */
  constructor(
    private rate: number,
    private readonly burstSeconds: number,
    now: number,
  ) {
    this.tokens = this.capacity;
    this.at = now;
  }

  private get capacity(): number {
    return Math.max(1, this.rate * this.burstSeconds);
  }

  /** Takes `amount` tokens; returns the ms to wait until the balance is back to zero (0: no wait). */
  take(amount: number, now: number): number {
    this.refill(now);
    this.tokens -= amount;
    return this.waitMs();
  }

  /** The ms until the balance is back to zero (0 when it is not negative). */
  waitMs(now?: number): number {
    if (now !== undefined) this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** A new rate from now on; the debt (or saved burst, up to the new capacity) is kept. */
  setRate(rate: number, now: number): void {
    this.refill(now);
    this.rate = rate;
    this.tokens = Math.min(this.tokens, this.capacity);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.at);
    this.at = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.rate) / 1000);
  }
}
