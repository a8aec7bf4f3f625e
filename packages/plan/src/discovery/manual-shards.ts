import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import type { ManualShard } from '../plan-schema.js';
import { authError, readTopology, tlsError } from './cluster-seed.js';
import type { DiscoveredShard } from './discover-source.js';
import { mapWithLimit, withNode, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { NodeProbeError, parseInfo, type NodeLink } from './probe-node.js';
import {
  formatSlotRanges,
  mergeSlotRanges,
  missingSlotRanges,
  SLOT_COUNT,
  type SlotRange,
} from './slot-ranges.js';

/** What one manual shard's node said about itself. */
interface ShardFacts {
  role: string | undefined;
  version: string | undefined;
  /** null: not a cluster node, or it hides the cluster commands */
  nodeId: string | null;
  /** null when the node does not tell (not a cluster node) */
  slots: SlotRange[] | null;
  announced: HostPort | null;
}

/**
 * Manual mode (`source.shards`): dials each given address as it is (no mapping), and checks that each is a
 * master, that the slots it serves (CLUSTER SHARDS/SLOTS, or the plan's `slots` for a node without cluster
 * commands) match the plan's when both are known, that no two shards share a slot and that together they
 * cover all 16384. Throws DISCOVERY_UNREACHABLE, DISCOVERY_AUTH, DISCOVERY_SHARDS_INVALID or
 * DISCOVERY_SLOTS_UNCOVERED.
 */
export async function discoverManualShards(
  shards: readonly ManualShard[],
  context: DiscoveryContext,
): Promise<DiscoveredShard[]> {
  const addresses = shards.map((shard) => parseHostPort(shard.reachable)!);
  const outcomes = await mapWithLimit(addresses, context.concurrency, (address) =>
    withNode(context, address, address, (link) => readFacts(link, context.link.tls)),
  );
  const unreachable: string[] = [];
  const found: DiscoveredShard[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const address = addresses[index];
    const where = `source.shards[${index}] ${formatHostPort(address)}`;
    if (outcome.status === 'rejected') {
      const error: unknown = outcome.reason;
      if (error instanceof NodeProbeError && error.kind === 'auth') throw authError(address, address, error);
      if (error instanceof NodeProbeError && error.kind === 'tls')
        throw tlsError('source', address, address, error);
      unreachable.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    found.push(shardOf(index, where, shards[index], address, outcome.value, shards.length));
  }
  if (unreachable.length > 0) {
    throw new DiscoveryError(
      'DISCOVERY_UNREACHABLE',
      `manual shards do not answer: ${unreachable.join('; ')}. Fix: give each shard's reachable master ` +
        'address in source.shards',
      { unreachable },
    );
  }
  checkDisjoint(found);
  const missing = missingSlotRanges(found.flatMap((shard) => shard.slots));
  if (missing.length > 0) {
    throw new DiscoveryError(
      'DISCOVERY_SLOTS_UNCOVERED',
      `source.shards leave slots ${formatSlotRanges(missing)} without a shard: add the master serving them`,
      { missing },
    );
  }
  return found;
}

async function readFacts(link: NodeLink, tls: boolean): Promise<ShardFacts> {
  const info = parseInfo(String(await link.call('INFO')));
  const facts: ShardFacts = {
    role: info.get('role'),
    version: info.get('redis_version'),
    nodeId: null,
    slots: null,
    announced: null,
  };
  if (info.get('cluster_enabled') !== '1') return facts;
  const myId = await link.call('CLUSTER', 'MYID').catch(() => null);
  if (typeof myId !== 'string') return facts;
  facts.nodeId = myId;
  const own = (await readTopology(link, tls)).find((master) => master.nodeId === myId);
  facts.slots = own?.slots ?? [];
  facts.announced = own?.announced ?? null;
  return facts;
}

function shardOf(
  index: number,
  where: string,
  shard: ManualShard,
  address: HostPort,
  facts: ShardFacts,
  count: number,
): DiscoveredShard {
  if (facts.role !== 'master') {
    throw new DiscoveryError(
      'DISCOVERY_SHARDS_INVALID',
      `${where} is a ${facts.role ?? 'node of unknown role'}, not a master: give the master's reachable address`,
      { index, reachable: formatHostPort(address), role: facts.role },
    );
  }
  const planned = shard.slots ? mergeSlotRanges(shard.slots) : null;
  let slots: SlotRange[];
  if (facts.slots) {
    if (planned && formatSlotRanges(planned) !== formatSlotRanges(facts.slots)) {
      throw new DiscoveryError(
        'DISCOVERY_SHARDS_INVALID',
        `${where} serves slots ${formatSlotRanges(facts.slots)}, but the plan says ${formatSlotRanges(planned)}: ` +
          'correct its slots or leave them out',
        { index, serves: facts.slots, planned },
      );
    }
    slots = facts.slots;
  } else if (planned) {
    slots = planned;
  } else if (count === 1) {
    slots = [[0, SLOT_COUNT - 1]];
  } else {
    throw new DiscoveryError(
      'DISCOVERY_SHARDS_INVALID',
      `${where} does not tell which slots it serves (no cluster commands): give its "slots" in the plan`,
      { index },
    );
  }
  if (slots.length === 0) {
    throw new DiscoveryError('DISCOVERY_SHARDS_INVALID', `${where} is a master without slots: leave it out`, {
      index,
    });
  }
  return {
    nodeId: facts.nodeId,
    slots,
    announced: formatHostPort(facts.announced ?? address),
    reachable: formatHostPort(address),
    mappedBy: 'manual',
    ...(facts.version ? { version: facts.version } : {}),
  };
}

function checkDisjoint(shards: readonly DiscoveredShard[]): void {
  const owner = new Map<string, number>();
  for (const [index, shard] of shards.entries()) {
    if (shard.nodeId && owner.has(shard.nodeId)) {
      throw new DiscoveryError(
        'DISCOVERY_SHARDS_INVALID',
        `source.shards[${owner.get(shard.nodeId)}] and [${index}] are the same node (${shard.nodeId})`,
        { nodeId: shard.nodeId },
      );
    }
    if (shard.nodeId) owner.set(shard.nodeId, index);
  }
  const ranges = shards.flatMap((shard, index) =>
    shard.slots.map(([first, last]) => ({ first, last, index })),
  );
  ranges.sort((a, b) => a.first - b.first);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    const range = ranges[i];
    if (range.first <= previous.last && range.index !== previous.index) {
      throw new DiscoveryError(
        'DISCOVERY_SHARDS_INVALID',
        `source.shards[${previous.index}] and [${range.index}] both claim slot ${range.first}: each slot belongs ` +
          'to one shard',
        { slot: range.first, shards: [previous.index, range.index] },
      );
    }
  }
}
