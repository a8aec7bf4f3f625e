import type { HostPort, TargetWriterOptions } from '@shardbridge/target';
import { keySlot } from '@shardbridge/target';
import type { ScanLinkError } from './scan-errors.js';
import { openSourceClient, type SourceClient } from './source-client.js';

/** One batch of keys found on the target. */
export interface TargetKeyBatch {
  db: number;
  keys: Buffer[];
}

/**
 * Lists the keys the target holds in a shard's slots, so a pass can delete those the source no longer has (deleted
 * while no notification could tell: a lost subscription, a dropped dirty set, a restart). Read-only: it only
 * SCANs. Standalone target: every db in INFO keyspace. Cluster target: db 0 of every master whose slots meet the
 * shard's, reached through the plan's target natMap / natRules like the writer's own connections.
 */
export class TargetKeys {
  private constructor(
    private readonly nodes: SourceClient[],
    private readonly cluster: boolean,
    private readonly slots: Array<[number, number]>,
  ) {}

  static async open(
    target: TargetWriterOptions,
    slots: Array<[number, number]>,
    onLost: (error: ScanLinkError) => void,
  ): Promise<TargetKeys> {
    const seed = target.seeds[0];
    const connect = (node: HostPort) =>
      openSourceClient(
        {
          host: node.host,
          port: node.port,
          label: `${node.host}:${node.port}`,
          username: target.username,
          password: target.password,
          tls: target.tls,
          connectTimeoutMs: target.connectTimeoutMs,
          side: 'target',
        },
        'key-listing',
        onLost,
      );
    const first = await connect(seed);
    if (target.type !== 'cluster') return new TargetKeys([first], false, slots);
    const nodes: SourceClient[] = [];
    try {
      const ranges = (await first.redis.call('CLUSTER', 'SLOTS')) as Array<
        [number, number, [string, number]]
      >;
      const masters = new Map<string, HostPort>();
      for (const [start, end, [host, port]] of ranges) {
        if (!slots.some(([first, last]) => start <= last && end >= first)) continue;
        const announced = { host, port: Number(port) };
        masters.set(`${host}:${port}`, mapTargetAddress(target, announced));
      }
      for (const address of masters.values()) nodes.push(await connect(address));
    } catch (error) {
      for (const node of nodes) node.close();
      throw error;
    } finally {
      first.close();
    }
    return new TargetKeys(nodes, true, slots);
  }

  /** SCAN batches of keys in the shard's slots (every key of a standalone target's dbs when it owns all slots). */
  async *batches(count: number): AsyncGenerator<TargetKeyBatch> {
    const everySlot = this.slots.length === 1 && this.slots[0][0] === 0 && this.slots[0][1] === 16383;
    for (const node of this.nodes) {
      const dbs = this.cluster ? [0] : await keyspaceDbs(node);
      for (const db of dbs) {
        if (!this.cluster) await node.redis.select(db);
        let cursor = '0';
        do {
          const [next, keys] = (await node.redis.callBuffer('SCAN', cursor, 'COUNT', count)) as [
            Buffer,
            Buffer[],
          ];
          cursor = next.toString('latin1');
          const mine = everySlot ? keys : keys.filter((key) => this.ownsSlot(keySlot(key)));
          if (mine.length > 0) yield { db, keys: mine };
        } while (cursor !== '0');
      }
    }
  }

  close(): void {
    for (const node of this.nodes) node.close();
  }

  private ownsSlot(slot: number): boolean {
    return this.slots.some(([first, last]) => slot >= first && slot <= last);
  }
}

/** The target's natMap entry, else its natRules mapper, else the announced address itself. */
function mapTargetAddress(target: TargetWriterOptions, announced: HostPort): HostPort {
  const mapped = target.natMap?.[`${announced.host}:${announced.port}`];
  if (mapped) return mapped;
  return target.mapAddress ? target.mapAddress(announced) : announced;
}

async function keyspaceDbs(node: SourceClient): Promise<number[]> {
  const text = (await node.redis.call('INFO', 'keyspace')) as string;
  const dbs: number[] = [];
  for (const match of text.matchAll(/^db(\d+):keys=(\d+)/gm))
    if (Number(match[2]) > 0) dbs.push(Number(match[1]));
  return dbs.sort((a, b) => a - b);
}
