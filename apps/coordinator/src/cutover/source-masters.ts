import { isIP } from 'node:net';
import {
  liveSourceOf,
  openNode,
  parseHostPort,
  resolveSecret,
  resolveTls,
  type NodeLink,
  type Plan,
  type ShardRecord,
} from '@shardbridge/plan';

/** One shard's source master, reached at its (NAT-mapped) reachable address with the plan's credentials and TLS. */
export interface MasterLink {
  shard: ShardRecord;
  link: NodeLink;
}

/** Replies that mean CLIENT PAUSE is not allowed here: an ACL without it, a renamed command, a managed service. */
const REFUSED = /^(NOPERM|ERR unknown command|ERR unknown subcommand|ERR syntax error)/i;

/**
 * Links to the masters of a plan's shards, for what a cutover asks of the source: `master_repl_offset`, and
 * CLIENT PAUSE WRITE / CLIENT UNPAUSE. Secrets are resolved here, on the coordinator, as discovery does.
 */
export class SourceMasters {
  private constructor(private readonly masters: MasterLink[]) {}

  static async open(plan: Plan, shards: ShardRecord[], timeoutMs = 5000): Promise<SourceMasters> {
    const source = liveSourceOf(plan);
    const tls = resolveTls(source.tls, 'source.tls', resolveSecret);
    const opened: MasterLink[] = [];
    try {
      for (const shard of shards) {
        const address = parseHostPort(shard.reachable);
        if (!address) throw new Error(`shard ${shard.id} has no reachable address`);
        const announcedHost = parseHostPort(shard.announced)?.host;
        const link = await openNode(address, {
          username: source.username,
          password: resolveSecret(source.password, 'source.password'),
          tls: tls.enabled,
          tlsOptions: tls.options,
          // Behind NAT the certificate names the announced host, not the dialled one (as discovery verifies it).
          ...(announcedHost && isIP(announcedHost) === 0 && tls.options.servername === undefined
            ? { servername: announcedHost }
            : {}),
          timeoutMs,
        }).catch((error: Error) => {
          throw new Error(
            `cannot reach the source master of shard ${shard.id} (${shard.announced} via ${shard.reachable}): ` +
              `${error.message}`,
          );
        });
        opened.push({ shard, link });
      }
    } catch (error) {
      for (const master of opened) master.link.close();
      throw error;
    }
    return new SourceMasters(opened);
  }

  /** `master_repl_offset` of every master, by shard id. */
  async offsets(): Promise<Map<string, number>> {
    const entries = await Promise.all(
      this.masters.map(async ({ shard, link }) => {
        const info = String(await link.call('INFO', 'replication'));
        if (!/^role:master/m.test(info)) {
          // After a failover the recorded node replicates from the new master: its offset is not the goal.
          throw new Error(
            `the source node of shard ${shard.id} (${shard.announced}) is no longer a master (failover?): ` +
              'wait until the coordinator has re-read the topology, then cut over again',
          );
        }
        return [shard.id, Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1] ?? -1)] as const;
      }),
    );
    return new Map(entries);
  }

  /**
   * CLIENT PAUSE <ms> WRITE on every master. The pause expires by itself after `ms` (renew it by calling again), so
   * a coordinator that dies mid-cutover leaves the source paused for at most that long. Returns null when every
   * master paused, else why not (after unpausing the ones that did).
   */
  async pause(ms: number): Promise<string | null> {
    const paused: MasterLink[] = [];
    for (const master of this.masters) {
      try {
        await master.link.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
        paused.push(master);
      } catch (error) {
        await Promise.allSettled(paused.map(({ link }) => link.call('CLIENT', 'UNPAUSE')));
        const message = (error as Error).message;
        return REFUSED.test(message)
          ? `the source master of shard ${master.shard.id} (${master.shard.announced}) refused CLIENT PAUSE WRITE ` +
              `(${message}); it needs Redis 6.2+ and an ACL allowing CLIENT PAUSE`
          : `CLIENT PAUSE on shard ${master.shard.id} (${master.shard.announced}) failed: ${message}`;
      }
    }
    return null;
  }

  /** CLIENT UNPAUSE on every master; returns the masters where it failed (their pause expires by itself). */
  async unpause(): Promise<string[]> {
    const results = await Promise.allSettled(this.masters.map(({ link }) => link.call('CLIENT', 'UNPAUSE')));
    return results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [`shard ${this.masters[index].shard.id}: ${(result.reason as Error).message}`]
        : [],
    );
  }

  close(): void {
    for (const { link } of this.masters) link.close();
  }
}
