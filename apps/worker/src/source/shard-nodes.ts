import type { HostPort } from '@shardbridge/plan';

/** One node of a source shard as CLUSTER SHARDS describes it. */
export interface ShardNode {
  nodeId: string | null;
  role: 'master' | 'replica';
  /** the preferred endpoint, or null when the node announces none (then the queried address is the one) */
  announced: HostPort | null;
  /** `online`, `failed` or `loading` */
  health: string | null;
}

/**
 * The nodes (master first, then replicas) of the shard that serves `slot`, from a CLUSTER SHARDS reply (Redis
 * 7+; RESP2 flat key/value arrays as ioredis `call` returns them). Empty when no shard serves the slot. The
 * plan package's parser returns masters only; replication from a replica needs the rest.
 */
export function shardNodesForSlot(reply: unknown, slot: number, tls: boolean): ShardNode[] {
  if (!Array.isArray(reply)) throw new Error('unexpected CLUSTER SHARDS reply: expected an array');
  for (const shardReply of reply) {
    const shard = fields(shardReply);
    const bounds = ((shard.get('slots') as unknown[] | undefined) ?? []).map(Number);
    let serves = false;
    for (let index = 0; index + 1 < bounds.length; index += 2) {
      if (slot >= bounds[index] && slot <= bounds[index + 1]) serves = true;
    }
    if (!serves) continue;
    const nodes = ((shard.get('nodes') as unknown[] | undefined) ?? []).map((node) =>
      toShardNode(fields(node), tls),
    );
    return [
      ...nodes.filter((node) => node.role === 'master'),
      ...nodes.filter((node) => node.role === 'replica'),
    ];
  }
  return [];
}

function toShardNode(node: Map<string, unknown>, tls: boolean): ShardNode {
  const endpoint = text(node.get('endpoint'));
  const host = endpoint && endpoint !== '?' ? endpoint : text(node.get('ip'));
  const plain = node.get('port');
  const secure = node.get('tls-port');
  const port = tls ? (secure ?? plain) : (plain ?? secure);
  return {
    nodeId: text(node.get('id')),
    role: text(node.get('role')) === 'master' ? 'master' : 'replica',
    announced: host && port !== undefined && port !== null ? { host, port: Number(port) } : null,
    health: text(node.get('health')),
  };
}

function fields(value: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(value)) return map;
  for (let index = 0; index + 1 < value.length; index += 2) map.set(String(value[index]), value[index + 1]);
  return map;
}

function text(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  return Buffer.isBuffer(value) ? value.toString() : String(value);
}
