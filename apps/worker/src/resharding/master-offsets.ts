import {
  formatHostPort,
  NodeProbeError,
  openNode,
  parseHostPort,
  type HostPort,
  type NatMapper,
  type NodeLinkOptions,
  type ShardRecord,
} from '@shardbridge/plan';
import { SourceLocator } from '../source/source-locator.js';

/** A master's position in its replication stream. */
export interface MasterOffset {
  replid: string;
  /** `master_repl_offset`: bytes of the stream the master has produced so far */
  offset: number;
  /** where it was read (`host:port`, reachable) */
  address: string;
}

export interface MasterOffsetsOptions {
  /** resolved credentials and TLS of the source; `timeoutMs` bounds each connect and reply */
  link: NodeLinkOptions;
  /** reachable source nodes to ask for the topology when a shard's recorded node is no longer its master */
  seeds: readonly HostPort[];
  natMapper: NatMapper;
}

/**
 * Reads `master_repl_offset` of the master that serves a shard now: the shard record's node while it says
 * `role:master`, else the master a topology lookup finds for the shard's slots (after a failover). A replica's own
 * offset would lag its master's and is never used.
 */
export class MasterOffsets {
  constructor(private readonly options: MasterOffsetsOptions) {}

  /** null when no master of the shard answers (the caller decides whether to wait for it). */
  async of(shard: ShardRecord): Promise<MasterOffset | null> {
    const recorded = parseHostPort(shard.reachable);
    if (!recorded) return null;
    const direct = await this.read(recorded);
    if (direct?.role === 'master') return direct.position;
    if (shard.slots.length === 0) return null;
    try {
      const locator = new SourceLocator({
        slots: shard.slots,
        seeds: this.options.seeds,
        natMapper: this.options.natMapper,
        link: this.options.link,
      });
      const announced = parseHostPort(shard.announced) ?? recorded;
      const found = await locator.locate({ nodeId: shard.nodeId, announced, reachable: recorded });
      const located = await this.read(found.reachable);
      return located?.role === 'master' ? located.position : null;
    } catch {
      return null;
    }
  }

  private async read(address: HostPort): Promise<{ role: string; position: MasterOffset } | null> {
    let info: string;
    try {
      const link = await openNode(address, this.options.link);
      try {
        info = String(await link.call('INFO', 'replication'));
      } finally {
        link.close();
      }
    } catch (error) {
      if (error instanceof NodeProbeError) return null;
      throw error;
    }
    const role = /^role:(\w+)/m.exec(info)?.[1];
    const replid = /^master_replid:([0-9a-f]+)/m.exec(info)?.[1];
    const offset = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
    if (!role || !replid || !Number.isSafeInteger(offset)) return null;
    return { role, position: { replid, offset, address: formatHostPort(address) } };
  }
}
