import { isIP } from 'node:net';
import {
  formatHostPort,
  NatMapper,
  NodeProbeError,
  openNode,
  readTopology,
  type HostPort,
  type NodeLink,
  type NodeLinkOptions,
  type TopologyMaster,
} from '@shardbridge/plan';
import { shardNodesForSlot } from './shard-nodes.js';

/**
 * Which node of a shard to replicate from. A replica serves PSYNC like its master, with the master's replid and
 * offsets (PSYNC2), so a shard can move between them and continue with +CONTINUE. `replica` waits (retrying) when
 * no replica is up; `prefer-replica` falls back to the master. Replica modes need CLUSTER SHARDS (Redis 7+).
 */
export type ReadFrom = 'master' | 'replica' | 'prefer-replica';

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
  /** @defaultValue 'master' */
  readFrom?: ReadFrom;
  /**
   * The shard's slots as re-planning last recorded them (resharding moves slots between shards while a worker
   * runs); null or a failure falls back to `slots`.
   * @defaultValue undefined: always `slots`
   */
  currentSlots?: () => Promise<ReadonlyArray<readonly [number, number]> | null>;
}

/**
 * What a node says about itself in INFO replication; null when it does not answer; `refused` when it answers
 * but will not run INFO (an ACL without it): then nothing is known and nothing is moved.
 */
type NodeState = { role: string; linkUp: boolean } | 'refused' | null;

/** The shard's source could not be located this time; retried with the reconnect backoff. */
export class SourceRelocationError extends Error {
  override name = 'SourceRelocationError';
  readonly code = 'SOURCE_RELOCATE_FAILED';
}

/**
 * Finds the node to replicate a shard's slots from in a source cluster: before the first link and after a lost
 * one. With `readFrom: 'master'`:
 *
 * The node the shard last replicated from is kept while it still says `role:master`. Otherwise (unreachable,
 * or demoted to a replica by a failover) each of that node and the seeds is asked for the topology (CLUSTER
 * SHARDS, or SLOTS) until one names a master for the shard's first slot other than the demoted node; the
 * master's announced address goes through the NAT map, and the result is used only once that node itself says
 * `role:master` — a view that gossip has not updated yet is rejected, not followed.
 *
 * With a replica mode, the node is kept while it is a replica whose master link is up; otherwise the shard's
 * nodes (CLUSTER SHARDS) are tried: replicas that say their master link is up, then (`prefer-replica`) the master.
 */
export class SourceLocator {
  constructor(private readonly options: SourceLocatorOptions) {}

  get readFrom(): ReadFrom {
    return this.options.readFrom ?? 'master';
  }

  async locate(current: SourceLocation): Promise<SourceLocation> {
    const readFrom = this.options.readFrom ?? 'master';
    const state = await this.stateOf(current.reachable, current.announced);
    if (state === 'refused') return current;
    if (readFrom === 'master' ? state?.role === 'master' : isLiveReplica(state)) return current;
    const slots = (await this.options.currentSlots?.().catch(() => null)) ?? this.options.slots;
    const firstSlot = slots[0]?.[0];
    if (firstSlot === undefined) throw new SourceRelocationError('the shard has no slots to look up');
    const why = state === null ? 'the shard’s node does not answer' : `the shard’s node is a ${state.role}`;
    const failures: string[] = [];
    const seeds = uniqueAddresses([current.reachable, ...this.options.seeds]);
    const found =
      readFrom === 'master'
        ? await this.findMaster(current, seeds, firstSlot, failures)
        : await this.findReplica(current, seeds, firstSlot, readFrom === 'prefer-replica', failures);
    if (found) return found;
    throw new SourceRelocationError(
      `no ${readFrom === 'replica' ? 'live replica' : 'master'} found for slot ${firstSlot} (${why}): ` +
        `${failures.join('; ')}. Check source cluster health and clusterSeeds/natMap in the job`,
    );
  }

  private async findMaster(
    current: SourceLocation,
    seeds: HostPort[],
    firstSlot: number,
    failures: string[],
  ): Promise<SourceLocation | null> {
    for (const seed of seeds) {
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
      if (stale || !isMaster(await this.stateOf(reachable, announced))) {
        failures.push(
          `${formatHostPort(seed)} names ${formatHostPort(announced)} (via ${formatHostPort(reachable)}), ` +
            'which is not a master (yet)',
        );
        continue;
      }
      return { nodeId: owner.nodeId, announced, reachable };
    }
    return null;
  }

  /**
   * A replica of the shard that says its link to its master is up (so its stream is current), other than the
   * node that just failed; with `orMaster`, the master when no replica qualifies.
   */
  private async findReplica(
    current: SourceLocation,
    seeds: HostPort[],
    firstSlot: number,
    orMaster: boolean,
    failures: string[],
  ): Promise<SourceLocation | null> {
    for (const seed of seeds) {
      let nodes;
      try {
        const reply = await this.withLink(seed, (link) => link.call('CLUSTER', 'SHARDS'));
        nodes = shardNodesForSlot(reply, firstSlot, this.options.link.tls);
      } catch (error) {
        failures.push(`${formatHostPort(seed)}: ${(error as Error).message}`);
        continue;
      }
      const replicas = nodes.filter(
        (node) => node.role === 'replica' && node.health !== 'failed' && node.nodeId !== current.nodeId,
      );
      const candidates = orMaster
        ? [...replicas, ...nodes.filter((node) => node.role === 'master')]
        : replicas;
      for (const node of candidates) {
        const announced = node.announced ?? seed;
        const { reachable } = this.options.natMapper.map(announced);
        const state = await this.stateOf(reachable, announced);
        if (node.role === 'master' ? isMaster(state) : isLiveReplica(state)) {
          return { nodeId: node.nodeId, announced, reachable };
        }
        failures.push(
          `${formatHostPort(announced)} (via ${formatHostPort(reachable)}) is not a live ${node.role}`,
        );
      }
      if (candidates.length === 0) failures.push(`${formatHostPort(seed)}: the shard has no other replica`);
    }
    return null;
  }

  private async stateOf(address: HostPort, announced: HostPort): Promise<NodeState> {
    let info: string;
    try {
      info = String(await this.withLink(address, (link) => link.call('INFO', 'replication'), announced));
    } catch (error) {
      return error instanceof NodeProbeError ? null : 'refused';
    }
    const role = /^role:(\w+)/m.exec(info)?.[1];
    return role ? { role, linkUp: /^master_link_status:up/m.test(info) } : 'refused';
  }

  /**
   * A link to `address`; over TLS the certificate is verified against `announced` when it is a name (the node's
   * certificate is issued for it, not for the NAT address), unless the plan's `servername` says otherwise.
   */
  private async withLink<T>(
    address: HostPort,
    use: (link: NodeLink) => Promise<T>,
    announced?: HostPort,
  ): Promise<T> {
    const servername = announced && isIP(announced.host) === 0 ? announced.host : undefined;
    const link = await openNode(address, { ...this.options.link, ...(servername ? { servername } : {}) });
    try {
      return await use(link);
    } finally {
      link.close();
    }
  }
}

function isLiveReplica(state: NodeState): boolean {
  return state !== null && state !== 'refused' && state.role === 'slave' && state.linkUp;
}

/** A node whose INFO is refused is taken at the topology's word. */
function isMaster(state: NodeState): boolean {
  return state === 'refused' || state?.role === 'master';
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
