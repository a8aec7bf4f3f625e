import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { ClusterStartError, WaitTimeoutError } from './errors.js';
import { parseClusterNodes, topologyFingerprint, type ClusterNodeEntry } from './cluster-nodes.js';
import { keySlot, SLOT_COUNT } from '@shardbridge/target';
import type { RedisConfig } from './redis-config.js';
import { startRedis, type RedisServer } from './redis-server.js';
import type { RedisRole } from './redis-bin.js';
import { sleep } from './sleep.js';

/** Options for {@link startCluster}. */
export interface StartClusterOptions {
  /** the cluster's side in a sync test (picks the role's binary, see StartRedisOptions.role). @defaultValue none */
  role?: RedisRole;
  /** Number of masters; slots are split evenly between them. At least 1. */
  masters: number;
  /**
   * Replicas attached to each master.
   * @defaultValue `0`
   */
  replicasPerMaster?: number;
  /**
   * Simulate NAT: every node announces `node-<i>.internal.invalid` (`cluster-announce-hostname`) and prefers it
   * as endpoint, so CLUSTER SLOTS/SHARDS and MOVED/ASK name hosts that cannot be resolved, while the bus and
   * replication keep using 127.0.0.1.
   * @defaultValue `false`
   */
  announceHostnames?: boolean;
  /**
   * `requirepass` on every node (and `masterauth`, so replicas can sync).
   * @defaultValue no password
   */
  password?: string;
  /**
   * Extra directives for every node, after the testkit's own.
   * @defaultValue `{}`
   */
  config?: RedisConfig;
  /**
   * `cluster-node-timeout` in ms: how fast failures are detected. Small keeps failover tests quick.
   * @defaultValue `2000`
   */
  nodeTimeoutMs?: number;
  /**
   * Upper bound for the cluster to converge (`cluster_state:ok` everywhere, one agreed topology).
   * @defaultValue `30000`
   */
  timeoutMs?: number;
}

/** A running cluster. `nodes[i]` announces `node-<i>` when {@link StartClusterOptions.announceHostnames} is set. */
export interface RedisCluster {
  readonly nodes: RedisServer[];
  readonly password?: string;
  /** Whether nodes announce unresolvable hostnames. */
  readonly announcesHostnames: boolean;
  /** Node ids, stable across restarts (kept in each node's nodes.conf). */
  nodeId(node: RedisServer): Promise<string>;
  /** Current masters, as an answering node sees them (failed masters excluded), in slot order. */
  masters(): Promise<RedisServer[]>;
  /** Current replicas of `master` (or of every master when omitted). */
  replicas(master?: RedisServer): Promise<RedisServer[]>;
  /** The announced endpoint `host:port` clients are told about (a `.invalid` name when announcing hostnames). */
  announced(node: RedisServer): string;
  /** ioredis NAT map: announced endpoint -> reachable loopback address. */
  natMap(): Record<string, { host: string; port: number }>;
  /** The master currently serving `slot`. */
  nodeForSlot(slot: number): Promise<RedisServer>;
  /** The master currently serving `key`'s slot. */
  nodeForKey(key: string | Buffer): Promise<RedisServer>;
  /** An ioredis Cluster client (with the NAT map applied), disconnected by stop(). */
  client(overrides?: ClusterOptions): Cluster;
  /**
   * Promotes a replica of `master` (a node or its index in `nodes`) with CLUSTER FAILOVER (`force` when the
   * master is down) and waits until every answering node agrees. Returns the new master.
   */
  failover(master: RedisServer | number, mode?: 'default' | 'force' | 'takeover'): Promise<RedisServer>;
  /**
   * After `master` was killed or paused: waits until every other answering node says one of its replicas took
   * over its slots and they all agree. Returns the new master.
   */
  waitForFailover(master: RedisServer, timeoutMs?: number): Promise<RedisServer>;
  /** Waits until every node in `nodes` (default: all) says `cluster_state:ok` and they share one topology. */
  waitForAgreement(nodes?: RedisServer[], timeoutMs?: number): Promise<void>;
  /** Stops every node and client. Idempotent. */
  stop(): Promise<void>;
}

/** Hostname node `index` announces when announcing hostnames. */
export function announcedHostname(index: number): string {
  return `node-${index}.internal.invalid`;
}

/**
 * Starts `masters * (1 + replicasPerMaster)` cluster-enabled servers, gives each master a distinct config epoch
 * and an even share of the slots, joins them with CLUSTER MEET, attaches replicas with CLUSTER REPLICATE, and
 * waits for agreement and for every replica's link to be up.
 */
export async function startCluster(options: StartClusterOptions): Promise<RedisCluster> {
  if (!Number.isInteger(options.masters) || options.masters < 1) {
    throw new ClusterStartError(`masters must be a positive integer, got ${options.masters}`);
  }
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const total = options.masters * (1 + replicasPerMaster);
  const started = await Promise.allSettled(
    Array.from({ length: total }, (_, index) => startRedis(nodeOptions(options, index))),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  const cluster = new SpawnedCluster(nodes, options);
  if (failed) {
    await cluster.stop();
    throw new ClusterStartError('a cluster node failed to start', { cause: failed.reason });
  }
  try {
    await cluster.form(options.masters, replicasPerMaster, options.timeoutMs ?? 30_000);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

function nodeOptions(options: StartClusterOptions, index: number) {
  const config: RedisConfig = {
    'cluster-enabled': 'yes',
    'cluster-config-file': 'nodes.conf',
    'cluster-node-timeout': String(options.nodeTimeoutMs ?? 2000),
    // Tests kill masters on purpose; the surviving shards should keep answering meanwhile.
    'cluster-require-full-coverage': 'no',
    // CLUSTER SLOTS/SHARDS hide replicas whose offset is still 0; frequent pings move it within a second.
    'repl-ping-replica-period': '1',
    ...(options.password !== undefined ? { masterauth: options.password } : {}),
    ...(options.announceHostnames
      ? {
          'cluster-announce-hostname': announcedHostname(index),
          'cluster-preferred-endpoint-type': 'hostname',
        }
      : {}),
    ...options.config,
  };
  return { config, password: options.password, role: options.role };
}

class SpawnedCluster implements RedisCluster {
  readonly password?: string;
  readonly announcesHostnames: boolean;
  #ids = new Map<RedisServer, string>();
  #admins = new Map<RedisServer, { client: Redis; connected: Promise<unknown> }>();
  #clients = new Set<Cluster>();
  #stopping: Promise<void> | undefined;

  constructor(
    readonly nodes: RedisServer[],
    options: StartClusterOptions,
  ) {
    this.password = options.password;
    this.announcesHostnames = options.announceHostnames ?? false;
  }

  /**
   * Admin connection per node that fails fast instead of queueing while the node is down. Concurrent first
   * callers share the same pending connect.
   */
  async #admin(node: RedisServer): Promise<Redis> {
    let admin = this.#admins.get(node);
    if (!admin) {
      const client = node.client({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 2000,
        lazyConnect: true,
      });
      admin = { client, connected: client.connect().catch(() => undefined) };
      this.#admins.set(node, admin);
    }
    await admin.connected;
    return admin.client;
  }

  async #call(node: RedisServer, ...args: string[]): Promise<unknown> {
    const admin = await this.#admin(node);
    return admin.call(args[0], ...args.slice(1));
  }

  async form(masterCount: number, replicasPerMaster: number, timeoutMs: number): Promise<void> {
    const masters = this.nodes.slice(0, masterCount);
    await Promise.all(
      this.nodes.map(async (node, index) => {
        this.#ids.set(node, String(await this.#call(node, 'CLUSTER', 'MYID')));
        // Distinct epochs up front, as redis-cli does, so no epoch collision has to be resolved later.
        await this.#call(node, 'CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1));
      }),
    );
    await Promise.all(
      masters.map((node, index) => {
        const from = Math.floor((index * SLOT_COUNT) / masterCount);
        const to = Math.floor(((index + 1) * SLOT_COUNT) / masterCount) - 1;
        return this.#call(node, 'CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
      }),
    );
    const [first] = this.nodes;
    await Promise.all(
      this.nodes.slice(1).map((node) => this.#call(first, 'CLUSTER', 'MEET', node.host, String(node.port))),
    );
    if (replicasPerMaster > 0) {
      // A replica can only REPLICATE a master it already knows; gossip needs a moment after MEET.
      const replicaSets = this.nodes
        .slice(masterCount)
        .map((node, i) => ({ node, master: masters[i % masterCount] }));
      await this.#poll(timeoutMs, 'replicas to attach', async () => {
        const results = await Promise.all(
          replicaSets.map(({ node, master }) =>
            this.#call(node, 'CLUSTER', 'REPLICATE', this.#ids.get(master) ?? '').then(
              () => true,
              () => false,
            ),
          ),
        );
        return results.every(Boolean) || undefined;
      });
    }
    await this.waitForAgreement(this.nodes, timeoutMs);
    await this.#poll(timeoutMs, 'replica links to come up', async () => {
      const replicas = await this.replicas();
      const links = await Promise.all(replicas.map((node) => node.info('replication').catch(() => ({}))));
      return links.every((info) => (info as Record<string, string>).master_link_status === 'up') || undefined;
    });
    await this.#poll(timeoutMs, 'CLUSTER SLOTS to list every node', async () => {
      const listed = await Promise.all(
        this.nodes.map(async (node) => {
          const slots = (await this.#call(node, 'CLUSTER', 'SLOTS')) as unknown[][];
          return slots.reduce((sum, range) => sum + range.length - 2, 0);
        }),
      );
      return listed.every((count) => count === this.nodes.length) || undefined;
    });
  }

  async #poll<T>(timeoutMs: number, what: string, attempt: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const result = await attempt();
        if (result !== undefined) return result;
      } catch (error) {
        lastError = error;
      }
      await sleep(50);
    }
    throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
  }

  async #view(node: RedisServer): Promise<ClusterNodeEntry[]> {
    return parseClusterNodes(String(await this.#call(node, 'CLUSTER', 'NODES')));
  }

  async waitForAgreement(nodes: RedisServer[] = this.nodes, timeoutMs = 30_000): Promise<void> {
    let detail = '';
    try {
      await this.#poll(timeoutMs, 'cluster agreement', async () => {
        const views = await Promise.all(
          nodes.map(async (node) => {
            const info = String(await this.#call(node, 'CLUSTER', 'INFO'));
            return { ok: info.includes('cluster_state:ok'), entries: await this.#view(node) };
          }),
        );
        const fingerprints = new Set(views.map((view) => topologyFingerprint(view.entries)));
        const complete = views.every(
          (view) =>
            view.ok &&
            view.entries.length === this.nodes.length &&
            view.entries.every(
              (entry) => !entry.flags.includes('handshake') && !entry.flags.includes('noaddr'),
            ),
        );
        detail = `states ${views.map((view) => (view.ok ? 'ok' : 'fail')).join(',')}, ${fingerprints.size} distinct views`;
        return (complete && fingerprints.size === 1) || undefined;
      });
    } catch (error) {
      throw new ClusterStartError(`cluster did not converge within ${timeoutMs} ms (${detail})`, {
        cause: error,
      });
    }
  }

  async nodeId(node: RedisServer): Promise<string> {
    const known = this.#ids.get(node);
    if (known) return known;
    const id = String(await this.#call(node, 'CLUSTER', 'MYID'));
    this.#ids.set(node, id);
    return id;
  }

  /** Topology as seen by the first node that answers. */
  async #anyView(nodes: RedisServer[] = this.nodes): Promise<ClusterNodeEntry[]> {
    let lastError: unknown;
    for (const node of nodes) {
      try {
        return await this.#view(node);
      } catch (error) {
        lastError = error;
      }
    }
    throw new ClusterStartError('no cluster node answers', { cause: lastError });
  }

  #byId(id: string): RedisServer | undefined {
    for (const [node, nodeId] of this.#ids) if (nodeId === id) return node;
    return undefined;
  }

  async masters(): Promise<RedisServer[]> {
    const entries = (await this.#anyView())
      .filter((entry) => entry.role === 'master' && entry.slots.length > 0 && !entry.flags.includes('fail'))
      .sort((a, b) => a.slots[0][0] - b.slots[0][0]);
    return entries.flatMap((entry) => this.#byId(entry.id) ?? []);
  }

  async replicas(master?: RedisServer): Promise<RedisServer[]> {
    const masterId = master ? await this.nodeId(master) : undefined;
    return (await this.#anyView())
      .filter((entry) => entry.role === 'replica' && (masterId === undefined || entry.masterId === masterId))
      .flatMap((entry) => this.#byId(entry.id) ?? []);
  }

  announced(node: RedisServer): string {
    const index = this.nodes.indexOf(node);
    const host = this.announcesHostnames && index >= 0 ? announcedHostname(index) : node.host;
    return `${host}:${node.port}`;
  }

  natMap(): Record<string, { host: string; port: number }> {
    return Object.fromEntries(
      this.nodes.map((node) => [this.announced(node), { host: node.host, port: node.port }]),
    );
  }

  async nodeForSlot(slot: number): Promise<RedisServer> {
    const entry = (await this.#anyView()).find(
      (candidate) =>
        candidate.role === 'master' &&
        !candidate.flags.includes('fail') &&
        candidate.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    const node = entry && this.#byId(entry.id);
    if (!node) throw new ClusterStartError(`no master serves slot ${slot}`);
    return node;
  }

  nodeForKey(key: string | Buffer): Promise<RedisServer> {
    return this.nodeForSlot(keySlot(key));
  }

  client(overrides: ClusterOptions = {}): Cluster {
    const client = new Cluster(
      this.nodes.map((node) => ({ host: node.host, port: node.port })),
      {
        natMap: this.natMap(),
        redisOptions: { password: this.password },
        ...overrides,
      },
    );
    this.#clients.add(client);
    client.once('end', () => this.#clients.delete(client));
    return client;
  }

  async failover(
    master: RedisServer | number,
    mode: 'default' | 'force' | 'takeover' = 'default',
  ): Promise<RedisServer> {
    const oldMaster = typeof master === 'number' ? this.nodes[master] : master;
    const [replica] = await this.replicas(oldMaster);
    if (!replica) throw new ClusterStartError(`node ${this.announced(oldMaster)} has no replica to promote`);
    await this.#call(replica, 'CLUSTER', 'FAILOVER', ...(mode === 'default' ? [] : [mode.toUpperCase()]));
    await this.#poll(30_000, 'the replica to become master', async () => {
      const role = (await replica.info('replication')).role;
      return role === 'master' || undefined;
    });
    const answering = await this.#answering();
    await this.waitForAgreement(answering);
    return replica;
  }

  async waitForFailover(master: RedisServer, timeoutMs = 30_000): Promise<RedisServer> {
    const id = await this.nodeId(master);
    const others = this.nodes.filter((node) => node !== master);
    const before = (await this.#anyView(others)).find((entry) => entry.id === id);
    const slot = before?.slots[0]?.[0];
    if (slot === undefined) throw new ClusterStartError(`${this.announced(master)} serves no slots`);
    const ownerIn = (entries: ClusterNodeEntry[]) =>
      entries.find(
        (entry) => entry.role === 'master' && entry.slots.some(([from, to]) => slot >= from && slot <= to),
      )?.id;
    const newId = await this.#poll(
      timeoutMs,
      `a replica to take over from ${this.announced(master)}`,
      async () => {
        const answering = await this.#answering(others);
        const owners = new Set(
          await Promise.all(answering.map(async (node) => ownerIn(await this.#view(node)))),
        );
        const [owner] = owners;
        return owners.size === 1 && owner !== undefined && owner !== id ? owner : undefined;
      },
    );
    await this.waitForAgreement(await this.#answering(others), timeoutMs);
    const promoted = this.#byId(newId);
    if (!promoted) throw new ClusterStartError(`unknown node ${newId} took over`);
    return promoted;
  }

  async #answering(nodes: RedisServer[] = this.nodes): Promise<RedisServer[]> {
    const alive = await Promise.all(
      nodes.map((node) =>
        this.#call(node, 'PING').then(
          () => true,
          () => false,
        ),
      ),
    );
    return nodes.filter((_, index) => alive[index]);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const client of this.#clients) client.disconnect();
      for (const admin of this.#admins.values()) admin.client.disconnect();
      await Promise.all(this.nodes.map((node) => node.stop()));
    })();
    return this.#stopping;
  }
}
