import { formatHostPort, type HostPort } from '../host-port.js';
import type { NatMappedBy } from '../nat-map.js';
import { authError, tlsError } from './cluster-seed.js';
import { mapWithLimit, withNode, type DiscoveryContext } from './discovery-context.js';
import { DiscoveryError } from './errors.js';
import { NodeProbeError, parseInfo } from './probe-node.js';
import { formatSlotRanges, type SlotRange } from './slot-ranges.js';

/** A master to check, with the address it announces and the one we dial. */
export interface MasterAddress {
  nodeId: string | null;
  slots: SlotRange[];
  announced: HostPort;
  reachable: HostPort;
  /** see DiscoveredShard.mappedBy */
  mappedBy: NatMappedBy | 'seed' | 'manual';
  /** index of the natRules rule that mapped it */
  rule?: number;
  /** as the topology reported it; `failed` explains an unreachable master without blaming the address */
  health?: string;
}

/** What a reachable master told us about itself. */
export interface MasterFacts {
  /** `redis_version` from INFO server */
  version?: string;
}

/** One master that could not be used, for DISCOVERY_UNREACHABLE's details. */
interface Unreachable {
  master: MasterAddress;
  error: string;
}

/**
 * Dials every master at its reachable address (connect + AUTH + PING, `context.concurrency` at a time), reads
 * its version and, where the server knows CLUSTER MYID, that it is the node the topology names — a natMap entry
 * pointing at the wrong node would otherwise replicate the wrong slots. Throws DISCOVERY_AUTH, DISCOVERY_UNREACHABLE
 * (every failing master, with the natMap fix) or DISCOVERY_WRONG_NODE.
 */
export async function checkMasters(
  masters: MasterAddress[],
  context: DiscoveryContext,
): Promise<MasterFacts[]> {
  const outcomes = await mapWithLimit(masters, context.concurrency, (master) =>
    withNode(context, master.announced, master.reachable, async (link) => {
      const info = parseInfo(String(await link.call('INFO', 'server')));
      const myId = await link.call('CLUSTER', 'MYID').catch(() => null);
      if (master.mappedBy !== 'seed' && master.nodeId && typeof myId === 'string' && myId !== master.nodeId) {
        throw wrongNode(master, myId);
      }
      return { version: info.get('redis_version') };
    }),
  );
  const unreachable: Unreachable[] = [];
  const facts: MasterFacts[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const master = masters[index];
    if (outcome.status === 'fulfilled') {
      facts.push(outcome.value);
      continue;
    }
    const error: unknown = outcome.reason;
    if (error instanceof DiscoveryError) throw error;
    if (error instanceof NodeProbeError && error.kind === 'auth') {
      throw authError(master.announced, master.reachable, error);
    }
    if (error instanceof NodeProbeError && error.kind === 'tls') {
      throw tlsError('source', master.announced, master.reachable, error);
    }
    unreachable.push({ master, error: error instanceof Error ? error.message : String(error) });
  }
  if (unreachable.length > 0) throw unreachableError(unreachable, context.natMapper.size > 0);
  return facts;
}

function describe({ master, error }: Unreachable): string {
  const announced = formatHostPort(master.announced);
  const reachable = formatHostPort(master.reachable);
  const which = `source master ${announced} (slots ${formatSlotRanges(master.slots)})`;
  if (isFailed(master)) {
    return `${which} is marked failed by the cluster (${error}): wait for a replica to take over, then plan again`;
  }
  if (master.mappedBy === 'natMap') {
    return `${which} is mapped by natMap to ${reachable}, which does not answer (${error})`;
  }
  if (master.mappedBy === 'natRule') {
    return `${which} is mapped by natRules[${master.rule}] to ${reachable}, which does not answer (${error})`;
  }
  if (master.mappedBy === 'natDiscover') {
    return `${which} was found by natDiscover at ${reachable}, which no longer answers (${error})`;
  }
  if (master.mappedBy === 'manual')
    return `source shard ${reachable} (from source.shards) does not answer (${error})`;
  if (master.mappedBy === 'seed')
    return `${which}, reached through seed ${reachable}, does not answer (${error})`;
  return `${which} does not answer at its announced address (${error})`;
}

function unreachableError(unreachable: Unreachable[], hasNatMap: boolean): DiscoveryError {
  const sentences = unreachable.map(describe);
  const unmapped = unreachable.filter(({ master }) => master.mappedBy === 'identity' && !isFailed(master));
  const suggestion = Object.fromEntries(
    unmapped.map(({ master }) => [formatHostPort(master.announced), '<reachable-host>:<port>']),
  );
  const suggestionText = `{${Object.keys(suggestion)
    .map((announced) => `"${announced}": "<reachable-host>:<port>"`)
    .join(', ')}}`;
  const mapped = unreachable.filter(({ master }) => master.mappedBy === 'natMap' && !isFailed(master));
  const fixes: string[] = [];
  if (unmapped.length > 0) {
    fixes.push(
      `if this host cannot dial the announced address, add "natMap": ${suggestionText} to the ` +
        `plan's source${hasNatMap ? ' (next to the existing entries)' : ''}`,
    );
  }
  if (mapped.length > 0) {
    const keys = mapped.map(({ master }) => `"${formatHostPort(master.announced)}"`).join(', ');
    fixes.push(`correct the natMap entr${mapped.length === 1 ? 'y' : 'ies'} for ${keys}`);
  }
  const ruled = [
    ...new Set(
      unreachable
        .filter(({ master }) => master.mappedBy === 'natRule' && !isFailed(master))
        .map(({ master }) => master.rule),
    ),
  ];
  if (ruled.length > 0) {
    fixes.push(
      `correct ${ruled.map((rule) => `natRules[${rule}]`).join(', ')} (or add natMap entries, which take precedence)`,
    );
  }
  const fix = fixes.length > 0 ? `. Fix: ${fixes.join('; ')}` : '';
  return new DiscoveryError('DISCOVERY_UNREACHABLE', `${sentences.join('; ')}${fix}`, {
    unreachable: unreachable.map(({ master, error }) => ({
      nodeId: master.nodeId,
      slots: master.slots,
      announced: formatHostPort(master.announced),
      reachable: formatHostPort(master.reachable),
      mappedBy: master.mappedBy,
      ...(master.health ? { health: master.health } : {}),
      error,
    })),
    ...(unmapped.length > 0 ? { natMapSuggestion: suggestion } : {}),
  });
}

function isFailed(master: MasterAddress): boolean {
  return master.health === 'fail' || master.health === 'failed';
}

function wrongNode(master: MasterAddress, actualId: string): DiscoveryError {
  const announced = formatHostPort(master.announced);
  const reachable = formatHostPort(master.reachable);
  return new DiscoveryError(
    'DISCOVERY_WRONG_NODE',
    `source master ${announced} (node ${master.nodeId}, slots ${formatSlotRanges(master.slots)}) is dialled at ` +
      `${reachable}, but the node answering there is ${actualId}: correct the natMap entry for "${announced}"`,
    { announced, reachable, expectedNodeId: master.nodeId, actualNodeId: actualId },
  );
}
