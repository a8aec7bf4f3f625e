/**
 * Pure parsers for the replies that describe a cluster's masters: CLUSTER SHARDS (Redis 7+), and CLUSTER SLOTS
 * with CLUSTER NODES for older servers. Replies are RESP2 as ioredis `call` returns them (maps as flat
 * key/value arrays, integers as numbers); a Map or plain object is accepted where RESP3 would send a map.
 */
import type { HostPort } from '../host-port.js';
import { DiscoveryError } from './errors.js';
import { mergeSlotRanges, type SlotRange } from './slot-ranges.js';

/** A master that serves slots, as the queried node sees it. */
export interface TopologyMaster {
  /** 40-hex node id; null only when neither the reply nor CLUSTER NODES gave one */
  nodeId: string | null;
  /** merged, sorted, inclusive */
  slots: SlotRange[];
  /**
   * The address clients are told to dial (`cluster-preferred-endpoint-type`), or null when the node announces
   * none: then the address the reply was read from is the one to use.
   */
  announced: HostPort | null;
  /** CLUSTER SHARDS `health` of the master (`online`, `fail`, `loading`); absent from CLUSTER SLOTS */
  health?: string;
  /** the shard's replicas, from CLUSTER SHARDS only; absent when it lists none */
  replicas?: TopologyReplica[];
}

/** A replica of a shard, as CLUSTER SHARDS lists it. */
export interface TopologyReplica {
  nodeId: string | null;
  /** null when the node announces no endpoint */
  announced: HostPort | null;
  /** `online`, `fail`, `loading` */
  health?: string;
}

/** Options for {@link parseClusterShards}. */
export interface ParseShardsOptions {
  /**
   * The link is TLS: prefer a node's `tls-port` over its plaintext `port`.
   * @defaultValue false
   */
  tls?: boolean;
}

/**
 * CLUSTER SHARDS, masters in slot order: per shard `slots` (flat list of inclusive start/end pairs) and `nodes` (each with `id`,
 * `endpoint`, `ip`, `hostname`, `port` and/or `tls-port`, `role`, `health`). Shards without slots are left out.
 * The endpoint is the preferred one; `?` (hostname preferred but unset) or empty (`unknown-endpoint`) falls back
 * to `ip`.
 */
export function parseClusterShards(reply: unknown, options: ParseShardsOptions = {}): TopologyMaster[] {
  const masters: TopologyMaster[] = [];
  for (const shardReply of asArray(reply, 'CLUSTER SHARDS')) {
    const shard = fields(shardReply, 'CLUSTER SHARDS shard');
    const flat = asArray(shard.get('slots') ?? [], 'CLUSTER SHARDS slots').map((slot) => toInt(slot, 'slot'));
    if (flat.length % 2 !== 0) throw topologyError('CLUSTER SHARDS slots: odd number of bounds');
    if (flat.length === 0) continue;
    const nodes = asArray(shard.get('nodes') ?? [], 'CLUSTER SHARDS nodes').map((node) =>
      fields(node, 'CLUSTER SHARDS node'),
    );
    const master = nodes.find((node) => String(node.get('role')) === 'master');
    if (!master) continue;
    const pairs: SlotRange[] = [];
    for (let index = 0; index < flat.length; index += 2) pairs.push([flat[index], flat[index + 1]]);
    const replicas: TopologyReplica[] = nodes
      .filter((node) => node !== master && String(node.get('role')) === 'replica')
      .map((node) => ({
        nodeId: optionalString(node.get('id')),
        announced: shardsEndpoint(node, options.tls ?? false),
        ...(node.has('health') ? { health: String(node.get('health')) } : {}),
      }));
    masters.push({
      nodeId: optionalString(master.get('id')),
      slots: mergeSlotRanges(pairs),
      announced: shardsEndpoint(master, options.tls ?? false),
      ...(master.has('health') ? { health: String(master.get('health')) } : {}),
      ...(replicas.length > 0 ? { replicas } : {}),
    });
  }
  return masters.sort(bySlot);
}

function shardsEndpoint(node: Map<string, unknown>, tls: boolean): HostPort | null {
  const endpoint = optionalString(node.get('endpoint'));
  const host = endpoint && endpoint !== '?' ? endpoint : optionalString(node.get('ip'));
  const plain = node.get('port');
  const secure = node.get('tls-port');
  const port = tls ? (secure ?? plain) : (plain ?? secure);
  if (!host || port === undefined || port === null) return null;
  return { host, port: toInt(port, 'port') };
}

/**
 * CLUSTER SLOTS: entries `[first, last, master, ...replicas]`, each node `[host, port, id?, metadata?]` where
 * metadata (Redis 7+) names the endpoints that were not preferred (`ip`, `hostname`). A host of `?` falls back to
 * metadata `ip`; an empty/null host means "the address you asked" (null here). Entries of one master are merged.
 * Redis before 4.0 sends no id: give `nodeIds` (from {@link parseClusterNodes}) to fill it in.
 */
export function parseClusterSlots(reply: unknown, nodeIds?: ReadonlyMap<string, string>): TopologyMaster[] {
  const byNode = new Map<string, TopologyMaster>();
  for (const entryReply of asArray(reply, 'CLUSTER SLOTS')) {
    const entry = asArray(entryReply, 'CLUSTER SLOTS entry');
    if (entry.length < 3) throw topologyError('CLUSTER SLOTS entry without a master');
    const range: SlotRange = [toInt(entry[0], 'slot'), toInt(entry[1], 'slot')];
    const node = asArray(entry[2], 'CLUSTER SLOTS node');
    const port = toInt(node[1], 'port');
    const metadata = node[3] === undefined ? new Map<string, unknown>() : fields(node[3], 'metadata');
    const preferred = optionalString(node[0]);
    const host = preferred === '?' ? optionalString(metadata.get('ip')) : preferred || null;
    const announced = host ? { host, port } : null;
    const ip = optionalString(metadata.get('ip')) ?? preferred ?? '';
    const nodeId = optionalString(node[2]) || (nodeIds?.get(`${ip}:${port}`) ?? null);
    const key = nodeId ?? `${preferred}:${port}`;
    const known = byNode.get(key);
    if (known) known.slots.push(range);
    else byNode.set(key, { nodeId, slots: [range], announced });
  }
  const masters = [...byNode.values()].map((master) => ({ ...master, slots: mergeSlotRanges(master.slots) }));
  return masters.sort(bySlot);
}

/** Masters in the order of their first slot, so callers see a stable order whatever the node sent. */
function bySlot(a: TopologyMaster, b: TopologyMaster): number {
  return a.slots[0][0] - b.slots[0][0];
}

/**
 * CLUSTER NODES → `ip:port` → node id (first field; address `ip:port@cport[,hostname]`, or `ip:port` before
 * Redis 4.0). IPv6 addresses are keyed unbracketed, as CLUSTER SLOTS sends them.
 */
export function parseClusterNodes(text: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [id, address] = line.trim().split(' ');
    if (!id || !address) continue;
    const hostPort = address.split(',')[0].split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) continue;
    ids.set(`${hostPort.slice(0, colon)}:${hostPort.slice(colon + 1)}`, id);
  }
  return ids;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw topologyError(`${what}: expected an array`);
  return value;
}

function fields(value: unknown, what: string): Map<string, unknown> {
  if (value instanceof Map) return new Map([...value].map(([key, item]) => [String(key), item]));
  if (Array.isArray(value)) {
    const map = new Map<string, unknown>();
    for (let index = 0; index + 1 < value.length; index += 2) map.set(String(value[index]), value[index + 1]);
    return map;
  }
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value));
  throw topologyError(`${what}: expected a map`);
}

function optionalString(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return Buffer.isBuffer(value) ? value.toString() : String(value);
}

function toInt(value: unknown, what: string): number {
  const number = Number(Buffer.isBuffer(value) ? value.toString() : value);
  if (!Number.isInteger(number)) throw topologyError(`expected an integer ${what}, got ${String(value)}`);
  return number;
}

function topologyError(message: string): DiscoveryError {
  return new DiscoveryError('DISCOVERY_TOPOLOGY', `unexpected topology reply: ${message}`);
}
