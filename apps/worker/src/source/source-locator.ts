import {
  formatHostPort,
  NatMapper,
  openNode,
  readTopology,
  type HostPort,
  type NodeLink,
  type NodeLinkOptions,
  type TopologyMaster,
} from '@shardbridge/plan';

/** Where a shard's source is: the node that serves its slots, announced and reachable. */
export interface SourceLocation {
  nodeId: string | null;
  announced: HostPort;
  reachable: HostPort;
}

export interface SourceLocatorOptions {
  /** inclusive slot ranges of the shard, as planned */
  slots: ReadonlyArray<readonly [number, number]>;
  /** reachable addresses of source cluster nodes to ask for the topology, besides the shard's last node */
  seeds: readonly HostPort[];
  /** maps the announced address of a newly found master to the one to dial */
  natMapper: NatMapper;
  /** resolved credentials and TLS of the source; `timeoutMs` bounds each connect and reply */
  link: NodeLinkOptions;
}

/** The shard's source could not be located this time; retried with the reconnect backoff. */
export class SourceRelocationError extends Error {
  override name = 'SourceRelocationError';
  readonly code = 'SOURCE_RELOCATE_FAILED';
}

/**
 * Finds the master that serves a shard's slots in a source cluster, for a shard whose link was lost.
 *
 * The node the shard last replicated from is kept while it still says `role:master`. Otherwise (unreachable,
 * or demoted to a replica by a failover) each of that node and the seeds is asked for the topology (CLUSTER
 * SHARDS, or SLOTS) until one names a master for the shard's first slot other than the demoted node; the
 * master's announced address goes through the NAT map, and the result is used only once that node itself says
 * `role:master` — a view that gossip has not updated yet is rejected, not followed.
 */
export class SourceLocator {
  constructor(private readonly options: SourceLocatorOptions) {}

  async locate(current: SourceLocation): Promise<SourceLocation> {
    const currentRole = await this.roleOf(current.reachable);
    if (currentRole === 'master') return current;
    const firstSlot = this.options.slots[0]?.[0];
    if (firstSlot === undefined) throw new SourceRelocationError('the shard has no slots to look up');
    const failures: string[] = [];
    for (const seed of uniqueAddresses([current.reachable, ...this.options.seeds])) {
      let masters: TopologyMaster[];
      try {
        masters = await this.withLink(seed, (link) => readTopology(link, this.options.link.tls));
      } catch (error) {
        failures.push(`${formatHostPort(seed)}: ${(error as Error).message}`);
        continue;
      }
      const owner = masters.find((master) =>
        master.slots.some(([from, to]) => firstSlot >= from && firstSlot <= to),
      );
      if (!owner) {
        failures.push(`${formatHostPort(seed)}: no master serves slot ${firstSlot}`);
        continue;
      }
      const announced = owner.announced ?? seed;
      const { reachable } = this.options.natMapper.map(announced);
      // The seed still names the node that is down or demoted: its view is older than the failover.
      const stale = owner.nodeId !== null && owner.nodeId === current.nodeId;
      if (stale || (await this.roleOf(reachable)) !== 'master') {
        failures.push(
          `${formatHostPort(seed)} names ${formatHostPort(announced)} (via ${formatHostPort(reachable)}), ` +
            'which is not a master (yet)',
        );
        continue;
      }
      return { nodeId: owner.nodeId, announced, reachable };
    }
    throw new SourceRelocationError(
      `no master found for slot ${firstSlot} (${currentRole === null ? 'the shard’s node does not answer' : 'the shard’s node is now a replica'}): ` +
        `${failures.join('; ')}. Check source cluster health and clusterSeeds/natMap in the job`,
    );
  }

  /** `master`, `slave`, or null when the node does not answer. */
  private async roleOf(address: HostPort): Promise<string | null> {
    try {
      const info = await this.withLink(address, (link) => link.call('INFO', 'replication'));
      return /^role:(\w+)/m.exec(String(info))?.[1] ?? null;
    } catch {
      return null;
    }
  }

  private async withLink<T>(address: HostPort, use: (link: NodeLink) => Promise<T>): Promise<T> {
    const link = await openNode(address, this.options.link);
    try {
      return await use(link);
    } finally {
      link.close();
    }
  }
}

function uniqueAddresses(addresses: HostPort[]): HostPort[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = formatHostPort(address).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
