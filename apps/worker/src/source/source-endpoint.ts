import { isIP } from 'node:net';
import { formatHostPort, parseHostPort } from '@shardbridge/plan';
import type { ReplicaClientOptions } from '@shardbridge/replication';
import type { SourceNodeInfo } from '@shardbridge/plan';
import { RttProbe, type SourceState } from './rtt-probe.js';
import type { SourceLocation, SourceLocator } from './source-locator.js';

export interface SourceEndpointOptions {
  shardId: string;
  /** the planned node at its reachable address */
  source: Omit<ReplicaClientOptions, 'resume'>;
  /** the planned node's id and announced `host:port`; omitted = unknown id, announced as dialled */
  sourceNode?: { nodeId: string | null; announced: string };
  /** 0 turns RTT sampling off */
  rttIntervalMs: number;
  onRtt: (rttMs: number | null) => void;
  /** see RttProbeOptions.onSourceState. @defaultValue not read */
  onSourceState?: (state: SourceState) => void;
  /** see RttProbeOptions.readOutputBufferLimit. @defaultValue always */
  readOutputBufferLimit?: () => boolean;
}

/**
 * The source node a shard replicates from — its link options, where it sits in the cluster, and the RTT probe
 * aimed at it — and the move to another node when a locator says so.
 */
export class SourceEndpoint {
  /** options of the next replication link (no resume point) */
  linkOptions: Omit<ReplicaClientOptions, 'resume'>;
  private location: SourceLocation;
  private readonly rttProbe: RttProbe | null;
  /**
   * A servername the plan fixes for every node (one shared certificate name); undefined when SNI follows each
   * node's announced host. A servername equal to the announced host is taken as the latter (the job-data path
   * defaults it so).
   */
  private readonly planServername: string | undefined;

  constructor(private readonly options: SourceEndpointOptions) {
    const { source } = options;
    this.linkOptions = { ...source };
    const reachable = { host: source.host, port: source.port };
    const announced = (options.sourceNode && parseHostPort(options.sourceNode.announced)) || reachable;
    this.location = { nodeId: options.sourceNode?.nodeId ?? null, announced, reachable };
    const servername = source.tls?.servername;
    this.planServername = servername !== undefined && servername !== announced.host ? servername : undefined;
    this.rttProbe =
      options.rttIntervalMs > 0
        ? new RttProbe(reachable, {
            intervalMs: options.rttIntervalMs,
            link: {
              username: source.username,
              password: source.password,
              tls: source.tls !== undefined,
              tlsOptions: source.tls,
              servername: source.tls?.servername,
              timeoutMs: source.connectTimeoutMs ?? 5000,
            },
            onSample: options.onRtt,
            onSourceState: options.onSourceState,
            readOutputBufferLimit: options.readOutputBufferLimit,
          })
        : null;
  }

  /** The node as progress reports it. */
  describe(): SourceNodeInfo {
    return {
      nodeId: this.location.nodeId,
      announced: formatHostPort(this.location.announced),
      reachable: formatHostPort(this.location.reachable),
    };
  }

  startRttProbe(): void {
    this.rttProbe?.start();
  }

  async stopRttProbe(): Promise<void> {
    await this.rttProbe?.stop();
  }

  /**
   * Asks the locator which node to dial and moves there when it is another one. Returns the node left, or null
   * when the shard stays. Errors of the locator propagate.
   */
  async relocate(locator: SourceLocator): Promise<SourceNodeInfo | null> {
    const before = this.location;
    const found = await locator.locate(before);
    const same =
      formatHostPort(found.reachable) === formatHostPort(before.reachable) && found.nodeId === before.nodeId;
    if (same) return null;
    const left = this.describe();
    this.location = found;
    const announced = formatHostPort(found.announced);
    const reachable = formatHostPort(found.reachable);
    this.linkOptions = {
      ...this.linkOptions,
      host: found.reachable.host,
      port: found.reachable.port,
      label: `shard ${this.options.shardId} (${announced} via ${reachable})`,
      // SNI follows the announced name, which the new node's certificate is issued for, unless the plan names one
      ...(this.linkOptions.tls && this.planServername === undefined && isIP(found.announced.host) === 0
        ? { tls: { ...this.linkOptions.tls, servername: found.announced.host } }
        : {}),
    };
    this.rttProbe?.retarget(found.reachable);
    return left;
  }
}
