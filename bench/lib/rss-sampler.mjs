/** Peak resident set size of this Node process, sampled every 100 ms (what a worker would need in RAM). */
export class RssSampler {
  constructor(intervalMs = 100) {
    this.baselineBytes = process.memoryUsage().rss;
    this.peakBytes = this.baselineBytes;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample() {
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage().rss);
  }

  /** Stops sampling; returns baseline and peak in bytes. */
  stop() {
    clearInterval(this.timer);
    this.sample();
    return { baselineBytes: this.baselineBytes, peakBytes: this.peakBytes };
  }
}
