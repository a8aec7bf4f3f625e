import { openNode, type HostPort, type NodeLink, type NodeLinkOptions } from '@shardbridge/plan';

export interface RttProbeOptions {
  /** resolved credentials and TLS of the source; `timeoutMs` bounds the connect and each PING */
  link: NodeLinkOptions;
  /** time between two samples. @defaultValue 5000 */
  intervalMs?: number;
  /** called with each sample; null when the node did not answer within the bound */
  onSample: (rttMs: number | null) => void;
  /**
   * Also read, after each PING, the node's `master_repl_offset` (INFO replication) and, once per connection, its
   * `client-output-buffer-limit` (CONFIG GET; null when refused, e.g. a managed Redis that renames CONFIG).
   * @defaultValue not read
   */
  onSourceState?: (state: SourceState) => void;
  /**
   * Whether to ask for `client-output-buffer-limit` (CONFIG GET is optional in the documented ACL: a refusal lands
   * in the source's ACL LOG, so it is only asked when needed, e.g. while the shard has caps).
   * @defaultValue always
   */
  readOutputBufferLimit?: () => boolean;
}

/** What the probe read of the source node besides its round trip. */
export interface SourceState {
  /** the node's replication offset now; null when INFO did not say */
  masterReplOffset: number | null;
  /** the raw `client-output-buffer-limit` value; null when CONFIG GET was refused or not asked yet */
  outputBufferLimit: string | null;
}

/**
 * Measures the round trip to a source node by timing `PING` on a control connection of its own, kept open
 * between samples so that connect and AUTH are not part of the figure. The replication link cannot be used:
 * `REPLCONF ACK` has no reply, and the master's PINGs flow one way. A failed sample drops the connection; the
 * next sample dials again (ioredis sockets have TCP keep-alive on).
 */
export class RttProbe {
  private link: NodeLink | null = null;
  /** the output buffer limit as this connection read it (undefined: not asked on it yet) */
  private outputBufferLimit: string | null | undefined;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private address: HostPort,
    private readonly options: RttProbeOptions,
  ) {}

  /** Takes a first sample now, then one every interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** Measures another node from the next sample on (the shard followed a failover). */
  retarget(address: HostPort): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    this.dropLink();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    this.dropLink();
  }

  private tick(): void {
    if (this.running || this.stopped) return; // a slow sample is still bounded by timeoutMs: skip, do not pile up
    this.running = this.sample()
      .then((rtt) => {
        if (!this.stopped) this.options.onSample(rtt);
      })
      .finally(() => {
        this.running = null;
      });
  }

  private async sample(): Promise<number | null> {
    const address = this.address;
    try {
      this.link ??= await openNode(address, this.options.link);
      if (this.stopped || address !== this.address) {
        this.dropLink();
        return null;
      }
      const started = process.hrtime.bigint();
      await this.link.call('PING');
      // to 0.01 ms: finer than that is scheduling noise
      const rtt = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      if (this.options.onSourceState) await this.readSourceState(this.link, this.options.onSourceState);
      return rtt;
    } catch {
      this.dropLink();
      return null;
    }
  }

  private async readSourceState(link: NodeLink, onState: (state: SourceState) => void): Promise<void> {
    if (this.outputBufferLimit === undefined && (this.options.readOutputBufferLimit?.() ?? true)) {
      const reply = await link.call('CONFIG', 'GET', 'client-output-buffer-limit').catch(() => null);
      this.outputBufferLimit = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : null;
    }
    const info = String(await link.call('INFO', 'replication').catch(() => ''));
    const offset = /^master_repl_offset:(\d+)/m.exec(info);
    if (!this.stopped) {
      onState({
        masterReplOffset: offset ? Number(offset[1]) : null,
        outputBufferLimit: this.outputBufferLimit ?? null,
      });
    }
  }

  private dropLink(): void {
    this.link?.close();
    this.link = null;
    this.outputBufferLimit = undefined;
  }
}
