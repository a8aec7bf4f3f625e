/** Limits of a {@link FlowWindow}. */
export interface FlowWindowLimits {
  /**
   * Commands in flight the window may grow to (the adaptive window's ceiling; the fixed window when `adaptive` is
   * false). @defaultValue 100000
   */
  maxCommands?: number;
  /**
   * Bytes of arguments in flight the window may grow to: the memory budget of one target writer.
   * @defaultValue 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * `true`: the window starts at 1,000 commands / 16 MiB (or the maximums, if lower), grows to the link's
   * bandwidth-delay product and shrinks when the target slows down; `false`: fixed at the maximums.
   * @defaultValue true
   */
  adaptive?: boolean;
}

/** A window's size and measurements (see {@link FlowWindow.state}). */
export interface FlowWindowState {
  /** commands / bytes in flight allowed now */
  commands: number;
  bytes: number;
  /** bytes in flight now */
  inFlightBytes: number;
  /** the link's round trip (least recent sample) and the last sample, ms; null before the first */
  minRttMs: number | null;
  lastRttMs: number | null;
  /** times the window doubled / shrank */
  grows: number;
  shrinks: number;
}

export const WINDOW_DEFAULTS = {
  maxCommands: 100_000,
  maxBytes: 64 * 1024 * 1024,
  /** where an adaptive window starts, and the least it shrinks to (the fixed window of earlier releases) */
  floorCommands: 1000,
  floorBytes: 16 * 1024 * 1024,
} as const;

/**
 * How far a round trip may exceed the link's minimum while the window still grows: up to where it starts shrinking.
 * A tighter gate (1.5× + 2 ms) kept the window at its start on short links whenever the worker itself was busy: a
 * loaded event loop handles the probe's reply late, and 10–20 ms of that is most of a 20 ms link's round trip
 * (measured: 41k ops/s at 20 ms, 1,000 commands per round trip). A queue at the target still stops the growth
 * (the confirmed rate stops rising) and shrinks the window past this bound.
 */
const GROW_RTT_FACTOR = 2;
const GROW_RTT_SLACK_MS = 20;
/** Window-limited rounds in a row whose rate did not rise by a quarter stop the growth (the link is not the limit). */
const GROW_MIN_GAIN = 1.25;
const FLAT_ROUNDS = 3;
/** After a growth that did not pay, the window tries again after this long. */
const PLATEAU_MS = 10_000;
const SHRINK_RTT_FACTOR = 2;
const SHRINK_RTT_SLACK_MS = 20;
/** The window is sized to this many bandwidth-delay products when it shrinks. */
const HEADROOM = 2;
/** A minimum round trip older than this is forgotten (the path may have changed). */
const MIN_RTT_LIFETIME_MS = 10_000;
/**
 * The fastest link the byte window is sized for, in bytes per ms (10 Gbit/s): the byte window grows no further than
 * HEADROOM × this × the link's round trip. On loopback or a LAN (a round trip of a few ms) that is less than the
 * starting 16 MiB, so big values (RESTOREs of a full sync, whose round trips the target's own work stretches)
 * never grow the byte window, and memory stays where it was; across a WAN it allows what the link can carry.
 */
const FASTEST_LINK_BYTES_PER_MS = 1_250_000;

/**
 * The in-flight window of a target writer, sized by the link it measures. Pure: the writer reports sends and
 * replies with a clock reading; nothing here does I/O or keeps per-command state.
 *
 * Measuring: one command per round trip is the probe (the writer tags it and reports {@link probeAnswered}). Its
 * round trip, and what the target confirmed while it was out (commands, bytes), give the delivery rate. The
 * link's own round trip is the least sample seen in the last 10 s.
 *
 * Sizing: a round in which the writer hit the window (the source had more to send) while the round trip stayed
 * below the shrink bound (2 × the link's minimum + 20 ms) doubles the window, up to the maximums — the window grows to what the link carries. Three
 * such rounds in a row whose confirmed rate did not rise by a quarter end the growth for 10 s, and the window goes
 * back to twice what that rate needs: on a short link the target, not the window, is the limit, and a deeper queue
 * would only cost memory and latency.
 * A round trip well above the minimum means a queue is building at the target (or on the path): the window
 * shrinks to twice the bandwidth-delay product measured (rate × minimum round trip), never below the starting
 * window, so the back-pressure reaches the source socket sooner. A probe still unanswered after such a time
 * ({@link tick}) counts as a slow round trip.
 */
export class FlowWindow {
  readonly maxCommands: number;
  readonly maxBytes: number;
  private readonly floorCommands: number;
  private readonly floorBytes: number;
  private readonly adaptive: boolean;
  private windowCommands: number;
  private windowBytes: number;
  private minRttMs = Infinity;
  private minRttAt = 0;
  private lastRttMs = 0;
  /** when the outstanding probe was sent; -1 = none out */
  private probeSentAt = -1;
  private roundCommands = 0;
  private roundBytes = 0;
  private roundLimited = false;
  /** the last sample already shrank the window for an unanswered probe (tick) */
  private stalledProbeCounted = false;
  private grows = 0;
  private shrinks = 0;
  /** the best confirmed rate (commands/ms) of a window-limited round since growth last stalled */
  private bestRate = 0;
  /** window-limited rounds in a row that did not beat `bestRate` by a quarter */
  private flatRounds = 0;
  /** growth paused until then: doubling did not raise the rate */
  private plateauUntil = 0;

  constructor(limits: FlowWindowLimits = {}) {
    this.maxCommands = Math.max(1, limits.maxCommands ?? WINDOW_DEFAULTS.maxCommands);
    this.maxBytes = Math.max(1, limits.maxBytes ?? WINDOW_DEFAULTS.maxBytes);
    this.adaptive = limits.adaptive ?? true;
    this.floorCommands = Math.min(this.maxCommands, WINDOW_DEFAULTS.floorCommands);
    this.floorBytes = Math.min(this.maxBytes, WINDOW_DEFAULTS.floorBytes);
    this.windowCommands = this.adaptive ? this.floorCommands : this.maxCommands;
    this.windowBytes = this.adaptive ? this.floorBytes : this.maxBytes;
  }

  /** commands in flight allowed now */
  get commands(): number {
    return this.windowCommands;
  }

  /** bytes in flight allowed now */
  get bytes(): number {
    return this.windowBytes;
  }

  /** the window now and what it measured, for metrics, logs and tests */
  state(inFlightBytes: number): FlowWindowState {
    return {
      commands: this.windowCommands,
      bytes: this.windowBytes,
      inFlightBytes,
      minRttMs: Number.isFinite(this.minRttMs) ? this.minRttMs : null,
      lastRttMs: this.lastRttMs > 0 ? this.lastRttMs : null,
      grows: this.grows,
      shrinks: this.shrinks,
    };
  }

  /** true when `commands`/`bytes` in flight leave room for one more write (at least one is always allowed) */
  hasRoom(commands: number, bytes: number): boolean {
    if (commands === 0) return true;
    if (commands < this.windowCommands && bytes < this.windowBytes) return true;
    this.roundLimited = true;
    return false;
  }

  /** Should the write being sent now be the probe? (One is out at a time.) Marks it sent if so. */
  takeProbe(now: number): boolean {
    if (!this.adaptive || this.probeSentAt >= 0) return false;
    this.probeSentAt = now;
    this.roundCommands = 0;
    this.roundBytes = 0;
    this.stalledProbeCounted = false;
    return true;
  }

  /** The target confirmed `commands` commands of `bytes` bytes (any reply, the probe's included). */
  confirmed(commands: number, bytes: number): void {
    this.roundCommands += commands;
    this.roundBytes += bytes;
  }

  /** The probe's reply arrived: one round trip sample, and the end of a round. */
  probeAnswered(now: number): void {
    if (this.probeSentAt < 0) return;
    const rttMs = Math.max(0.01, now - this.probeSentAt);
    this.probeSentAt = -1;
    if (!this.stalledProbeCounted) this.sample(rttMs, now);
    this.roundLimited = false;
  }

  /** The links are gone (a new writer starts over): forget the outstanding probe. */
  reset(): void {
    this.probeSentAt = -1;
  }

  /**
   * Periodic check (the writer's stall timer): a probe out for much longer than the link's round trip is a slow
   * round trip already (a paused or overloaded target answers nothing, so no sample would arrive).
   */
  tick(now: number): void {
    if (this.probeSentAt < 0 || this.stalledProbeCounted || !Number.isFinite(this.minRttMs)) return;
    const age = now - this.probeSentAt;
    if (age > this.minRttMs * SHRINK_RTT_FACTOR + SHRINK_RTT_SLACK_MS) {
      this.stalledProbeCounted = true;
      this.sample(age, now);
    }
  }

  private sample(rttMs: number, now: number): void {
    this.lastRttMs = rttMs;
    if (rttMs < this.minRttMs || now - this.minRttAt > MIN_RTT_LIFETIME_MS) {
      this.minRttMs = rttMs;
      this.minRttAt = now;
    }
    const minRtt = this.minRttMs;
    if (rttMs > minRtt * SHRINK_RTT_FACTOR + SHRINK_RTT_SLACK_MS) {
      // A queue is building: size the window to what the target actually confirmed per link round trip.
      const perMs = 1 / rttMs;
      const commands = Math.ceil(this.roundCommands * perMs * minRtt * HEADROOM);
      const bytes = Math.ceil(this.roundBytes * perMs * minRtt * HEADROOM);
      this.bestRate = 0;
      this.flatRounds = 0;
      this.setWindow(Math.min(this.windowCommands, commands), Math.min(this.windowBytes, bytes));
      return;
    }
    if (!this.roundLimited) return; // the source sent less than the window: nothing to learn about the link
    const rate = this.roundCommands / rttMs;
    if (rate >= this.bestRate * GROW_MIN_GAIN) {
      this.bestRate = rate;
      this.flatRounds = 0;
    } else if (++this.flatRounds >= FLAT_ROUNDS) {
      // Doubling stopped paying (the target, not the link, is the limit): back to what the rate needs.
      this.plateauUntil = now + PLATEAU_MS;
      this.bestRate = 0;
      this.flatRounds = 0;
      this.setWindow(
        Math.min(this.windowCommands, Math.ceil(rate * minRtt * HEADROOM)),
        Math.min(this.windowBytes, Math.ceil((this.roundBytes / rttMs) * minRtt * HEADROOM)),
      );
      return;
    }
    if (now < this.plateauUntil) return;
    if (rttMs <= minRtt * GROW_RTT_FACTOR + GROW_RTT_SLACK_MS) {
      const nextCommands = Math.min(this.maxCommands, this.windowCommands * 2);
      const linkBytes = Math.ceil(FASTEST_LINK_BYTES_PER_MS * minRtt * HEADROOM);
      const nextBytes = Math.max(
        this.windowBytes,
        Math.min(this.maxBytes, this.windowBytes * 2, Math.max(this.floorBytes, linkBytes)),
      );
      if (nextCommands > this.windowCommands || nextBytes > this.windowBytes) this.grows++;
      this.windowCommands = nextCommands;
      this.windowBytes = nextBytes;
    }
  }

  /** A smaller window, never below where it started. */
  private setWindow(commands: number, bytes: number): void {
    const nextCommands = Math.max(this.floorCommands, commands);
    const nextBytes = Math.max(this.floorBytes, bytes);
    if (nextCommands < this.windowCommands || nextBytes < this.windowBytes) this.shrinks++;
    this.windowCommands = nextCommands;
    this.windowBytes = nextBytes;
  }
}
