import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import {
  contentsOf,
  keySlot,
  startRedis,
  waitFor,
  type RedisCluster,
  type RedisContents,
  type RedisServer,
} from '@shardbridge/testkit';

const run = promisify(execFile);

/**
 * Writes to a cluster whose slots move while it writes: each key goes to the master the writer believes serves its
 * slot, MOVED updates that belief, ASK is followed once with ASKING, TRYAGAIN and CLUSTERDOWN are retried. Announced addresses
 * (`.invalid` names of a NAT-announcing cluster) go through `natMap` to the reachable loopback port.
 */
export class RedirectingWriter {
  private readonly bySlot = new Map<number, string>();
  private readonly clients = new Map<string, Redis>();

  constructor(
    private readonly nodes: () => RedisServer[],
    private readonly natMap: () => Record<string, string>,
    private readonly fallback: string,
  ) {}

  async call(key: string, command: string, ...args: Array<string | number>): Promise<unknown> {
    const slot = keySlot(key);
    let address = this.bySlot.get(slot) ?? this.fallback;
    let asking = false;
    for (let attempt = 0; attempt < 200; attempt++) {
      const client = this.client(address);
      try {
        if (!asking) return await client.call(command, key, ...args);
        const results =
          (await client
            .pipeline()
            .call('ASKING')
            .call(command, key, ...args)
            .exec()) ?? [];
        const [error, value] = results[1] ?? [new Error('no reply'), null];
        if (error) throw error;
        return value;
      } catch (error) {
        const message = (error as Error).message;
        const redirect = /^(MOVED|ASK) \d+ (\S+)$/.exec(message);
        if (redirect) {
          address = this.natMap()[redirect[2]] ?? redirect[2];
          asking = redirect[1] === 'ASK';
          if (!asking) this.bySlot.set(slot, address);
          continue;
        }
        // Mid-migration multi-key conflicts, and a node that joined a moment ago and has no slot map yet.
        if (/^(TRYAGAIN|CLUSTERDOWN)/.test(message)) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        throw error;
      }
    }
    throw new Error(`too many redirections for ${key}`);
  }

  private client(address: string): Redis {
    let client = this.clients.get(address);
    if (!client) {
      const node = this.nodes().find((candidate) => `${candidate.host}:${candidate.port}` === address);
      if (!node) throw new Error(`no test node at ${address}`);
      client = node.client();
      this.clients.set(address, client);
    }
    return client;
  }

  disconnect(): void {
    for (const client of this.clients.values()) client.disconnect();
  }
}

/** `count` key bases (hash tags) whose slot lies in [first, last]. */
export function keysInSlots(prefix: string, first: number, last: number, count: number): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < count; i++) {
    const base = `${prefix}${i}`;
    const slot = keySlot(`{${base}}`);
    if (slot >= first && slot <= last) found.push(base);
  }
  return found;
}

/**
 * A steady write load over `bases`, several loops at once: SET / HSET / SADD on keys sharing the base's hash tag
 * (one slot), with a DEL now and then, so values keep changing while their slots move.
 */
export function startRedirectedWrites(writer: RedirectingWriter, bases: string[], loops = 4) {
  let running = true;
  let rounds = 0;
  const failures: Error[] = [];
  const loop = async (offset: number) => {
    while (running) {
      const r = rounds++;
      const base = bases[(r * 7 + offset) % bases.length];
      try {
        if (r % 11 === 0) await writer.call(`{${base}}:str`, 'DEL');
        else await writer.call(`{${base}}:str`, 'SET', `v${r}`);
        await writer.call(`{${base}}:hash`, 'HSET', `f${r % 5}`, `v${r}`);
        await writer.call(`{${base}}:set`, 'SADD', `m${r % 9}`);
      } catch (error) {
        failures.push(error as Error);
        if (failures.length > 20) running = false;
      }
    }
  };
  const loops$ = Array.from({ length: loops }, (_, index) => loop(index));
  return {
    async stop(): Promise<number> {
      running = false;
      await Promise.all(loops$);
      if (failures.length > 0)
        throw new Error(`writes failed: ${failures.slice(0, 3).map((e) => e.message)}`);
      return rounds;
    },
  };
}

/**
 * Moves `slots` slots from one master to another with `redis-cli --cluster reshard` (MIGRATE, key by key). Its own
 * check refuses to start while gossip has not spread the last change to every node: retried until it agrees.
 */
export async function reshard(
  entry: RedisServer,
  fromId: string,
  toId: string,
  slots: number,
): Promise<void> {
  const args = [
    '--cluster',
    'reshard',
    `${entry.host}:${entry.port}`,
    '--cluster-from',
    fromId,
    '--cluster-to',
    toId,
    '--cluster-slots',
    String(slots),
    '--cluster-yes',
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      await run('redis-cli', args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
      return;
    } catch (error) {
      const output = String((error as { stdout?: string }).stdout ?? '');
      if (attempt < 40 && /don't agree|not all \d+ slots are covered|open slot/i.test(output)) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      throw new Error(`redis-cli reshard failed: ${output.slice(-2000)}`, { cause: error });
    }
  }
}

/**
 * Starts one more cluster-enabled node configured like the testkit's, announcing `announcedHost` (so a plan's
 * natMap can name it before it joins). It joins the cluster only with {@link joinCluster}.
 */
export function startSpareNode(announcedHost: string): Promise<RedisServer> {
  return startRedis({
    config: {
      'cluster-enabled': 'yes',
      'cluster-config-file': 'nodes.conf',
      'cluster-node-timeout': '2000',
      'cluster-require-full-coverage': 'no',
      'repl-ping-replica-period': '1',
      'repl-backlog-size': '64mb',
      'cluster-announce-hostname': announcedHost,
      'cluster-preferred-endpoint-type': 'hostname',
    },
  });
}

/** CLUSTER MEET, then waits until every node lists the newcomer as a master. */
export async function joinCluster(cluster: RedisCluster, node: RedisServer): Promise<void> {
  const admin = node.client();
  try {
    const seed = cluster.nodes[0];
    await admin.call('CLUSTER', 'MEET', seed.host, String(seed.port));
    const id = String(await admin.call('CLUSTER', 'MYID'));
    await waitFor(
      'the new node to be known by every node',
      async () => {
        const views = await Promise.all(
          cluster.nodes.map(async (member) => {
            const client = member.client();
            try {
              return String(await client.call('CLUSTER', 'NODES'));
            } finally {
              client.disconnect();
            }
          }),
        );
        const info = String(await admin.call('CLUSTER', 'INFO'));
        return (
          /cluster_state:ok/.test(info) &&
          views.every((view) => view.includes(`${id} `) && !/handshake|noaddr/.test(view))
        );
      },
      30_000,
    );
  } finally {
    admin.disconnect();
  }
}

/** db 0 of each master, merged (a cluster without replicas: every node is a master). */
export async function contentsOfMasters(masters: RedisServer[]): Promise<RedisContents> {
  const db = {};
  for (const node of masters) {
    const client = node.client();
    try {
      Object.assign(db, (await contentsOf(client, { dbs: [0] })).dbs['0']);
    } finally {
      client.disconnect();
    }
  }
  return { dbs: { '0': db } };
}
