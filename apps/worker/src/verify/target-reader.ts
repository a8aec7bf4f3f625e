import type { HostPort, TargetWriterOptions } from '@shardbridge/target';
import { keySlot } from '@shardbridge/target';
import { openSourceClient, type SourceClient } from '../scan/source-client.js';
import type { ScanLinkError } from '../scan/scan-errors.js';
import { DbClient } from './db-client.js';

/**
 * Read access to the target, key by key. A standalone target is one connection; a cluster target is one
 * connection per master, chosen by the key's slot from CLUSTER SLOTS read once through the plan's target natMap /
 * natRules (the writer's own mapping). A slot moved during verification shows up as a MOVED error on the key: that
 * key's comparison fails and the shard's report says so, rather than reading from a guessed node.
 */
export class TargetReader {
  private constructor(
    private readonly clients: SourceClient[],
    private readonly bySlot: DbClient[] | null,
    private readonly single: DbClient | null,
  ) {}

  static async open(
    target: TargetWriterOptions,
    onLost: (error: ScanLinkError) => void,
  ): Promise<TargetReader> {
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
        'verify',
        onLost,
      );
    const first = await connect(target.seeds[0]);
    if (target.type !== 'cluster') {
      return new TargetReader([first], null, new DbClient(first.redis, `target ${first.label}`));
    }
    const clients: SourceClient[] = [];
    try {
      const ranges = (await first.redis.call('CLUSTER', 'SLOTS')) as Array<
        [number, number, [string, number]]
      >;
      const byAddress = new Map<string, DbClient>();
      const bySlot = new Array<DbClient>(16384);
      for (const [start, end, [host, port]] of ranges) {
        const announced = `${host}:${port}`;
        let client = byAddress.get(announced);
        if (!client) {
          const opened = await connect(mapAddress(target, { host, port: Number(port) }));
          clients.push(opened);
          client = new DbClient(opened.redis, `target ${announced} via ${opened.label}`);
          byAddress.set(announced, client);
        }
        bySlot.fill(client, start, end + 1);
      }
      return new TargetReader(clients, bySlot, null);
    } catch (error) {
      for (const client of clients) client.close();
      throw error;
    } finally {
      first.close();
    }
  }

  /** The connection that serves `key` (undefined for a slot no target master serves). */
  nodeFor(key: Buffer): DbClient | undefined {
    return this.single ?? this.bySlot![keySlot(key)];
  }

  /** The connection serving a slot (cluster targets), or the only one. */
  nodeForSlot(slot: number): DbClient | undefined {
    return this.single ?? this.bySlot![slot];
  }

  get isCluster(): boolean {
    return this.single === null;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}

function mapAddress(target: TargetWriterOptions, announced: HostPort): HostPort {
  const mapped = target.natMap?.[`${announced.host}:${announced.port}`];
  if (mapped) return mapped;
  return target.mapAddress ? target.mapAddress(announced) : announced;
}
