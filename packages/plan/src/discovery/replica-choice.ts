import { formatHostPort } from '../host-port.js';
import type { NatMappedBy } from '../nat-map.js';
import type { ReadFrom } from '../plan-schema.js';
import type { TopologyMaster } from './cluster-topology.js';
import { withNode, mapWithLimit, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { parseInfo } from './probe-node.js';
import { formatSlotRanges } from './slot-ranges.js';

/** The replica a shard is replicated from when the plan's readFrom asks for one. */
export interface ReplicaSource {
  nodeId: string | null;
  /** `host:port` the replica announces */
  announced: string;
  /** `host:port` this side dials */
  reachable: string;
  mappedBy: NatMappedBy;
}

/**
 * For `readFrom: replica | prefer-replica`, picks per shard the first replica (in CLUSTER SHARDS order) that
 * is not marked failed, answers at its mapped address and has its link to the master up; its replication
 * stream carries the master's replid and offsets (PSYNC2), so a checkpoint stays valid across either. `master`
 * picks none. With `replica`, a shard without such a replica is DISCOVERY_NO_REPLICA; with `prefer-replica` it
 * falls back to its master (null).
 */
export async function chooseReplicas(
  masters: readonly TopologyMaster[],
  readFrom: ReadFrom,
  context: DiscoveryContext,
): Promise<Array<ReplicaSource | null>> {
  if (readFrom === 'master') return masters.map(() => null);
  const outcomes = await mapWithLimit(masters, context.concurrency, async (master) => {
    const reasons: string[] = [];
    for (const replica of master.replicas ?? []) {
      if (!replica.announced || replica.health === 'fail') continue;
      const mapping = context.natMapper.map(replica.announced, replica.nodeId);
      try {
        const info = await withNode(context, replica.announced, mapping.reachable, async (link) =>
          parseInfo(String(await link.call('INFO', 'replication'))),
        );
        if (info.get('role') === 'slave' && info.get('master_link_status') === 'up') {
          return {
            nodeId: replica.nodeId,
            announced: formatHostPort(replica.announced),
            reachable: formatHostPort(mapping.reachable),
            mappedBy: mapping.mappedBy,
          };
        }
        reasons.push(
          `${formatHostPort(replica.announced)}: link to master ${info.get('master_link_status') ?? 'unknown'}`,
        );
      } catch (error) {
        reasons.push(
          `${formatHostPort(replica.announced)}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (readFrom === 'prefer-replica') return null;
    const slots = formatSlotRanges(master.slots);
    const why = reasons.length > 0 ? reasons.join('; ') : 'it has no replica';
    throw new DiscoveryError(
      'DISCOVERY_NO_REPLICA',
      `readFrom is "replica" but the shard of slots ${slots} has no usable replica (${why}): add or map a ` +
        'replica, or set source.readFrom to "prefer-replica"',
      { slots: master.slots, reasons },
    );
  });
  return outcomes.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}
