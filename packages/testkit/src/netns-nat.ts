import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis, RedisOptions } from 'ioredis';
import { keySlot, SLOT_COUNT } from '@shardbridge/target';
import { ClientSet } from './client-set.js';
import { ClusterStartError, NetnsError, RedisStartError } from './errors.js';
import { startNatNetwork, type NatNetwork } from './netns-network.js';
import { pingOnce } from './ping.js';
import { trackDir, trackProcess, untrackDir } from './process-registry.js';
import type { RedisConfig } from './redis-config.js';
import { sleep } from './sleep.js';
import { serverArgs } from './start-options.js';

/** Options for {@link startNatNamespaceCluster}. */
export interface StartNatNamespaceClusterOptions {
  /**
   * Number of masters (no replicas); slots are split evenly between them.
   * @defaultValue `3`
   */
  masters?: number;
  /**
   * Port of the first node inside the namespace; node `i` listens on `firstPort + i` (its bus on `+ 10000`).
   * The namespace is private, so fixed ports cannot collide with anything.
   * @defaultValue `6379`
   */
  firstPort?: number;
  /**
   * The router publishes internal port `p` as `p + portOffset`.
   * @defaultValue `30000`
   */
  portOffset?: number;
  /**
   * Extra directives for every node, after the testkit's own.
   * @defaultValue `{}`
   */
  config?: RedisConfig;
  /**
   * Upper bound for every node to answer through the NAT and for the cluster to reach `cluster_state:ok`.
   * @defaultValue `30000`
   */
  timeoutMs?: number;
}

/** One node: where the cluster says it is, and where this host can dial it. */
export interface NatNamespaceNode {
  /** address the node binds and announces (CLUSTER NODES/SHARDS, MOVED); unreachable from this host */
  readonly internal: { host: string; port: number };
  /** the router's DNAT'd address of the node */
  readonly reachable: { host: string; port: number };
  /** first slot, last slot (inclusive) it serves */
  readonly slots: [number, number];
  /** working dir (nodes.conf, redis.log), removed by stop() */
  readonly dir: string;
}

/**
 * A Redis Cluster behind a real NAT gateway ({@link NatNetwork}): the nodes announce their own internal
 * addresses, which this host cannot route to, and answer only at the router's DNAT'd ports.
 */
export interface NatNamespaceCluster {
  readonly network: NatNetwork;
  readonly nodes: NatNamespaceNode[];
  readonly portOffset: number;
  /** Plan-shaped natMap: announced `internal:port` → reachable `router:port`. */
  natMap(): Record<string, string>;
  /** Plan-shaped natRules entry mapping the whole internal subnet onto the router with the port offset. */
  natRule(): { match: string; host: string; port: { offset: number } };
  /** The node serving `key`'s slot (the topology never changes: masters only, no failover). */
  nodeForKey(key: string | Buffer): NatNamespaceNode;
  /** A connected ioredis client of `node` through the NAT, disconnected by stop(). */
  client(node: NatNamespaceNode, overrides?: RedisOptions): Redis;
  /** Stops every node, then removes the namespaces. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts {@link StartNatNamespaceClusterOptions.masters} cluster nodes inside a fresh {@link NatNetwork},
 * each bound to and announcing the internal address; forwards each client port through the router; joins
 * them with CLUSTER MEET over the internal addresses (sent through the NAT) and waits for `cluster_state:ok`.
 * Throws {@link NetnsError} when namespaces or NAT cannot be set up (see its `reason`).
 */
export async function startNatNamespaceCluster(
  options: StartNatNamespaceClusterOptions = {},
): Promise<NatNamespaceCluster> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 1) {
    throw new ClusterStartError(`masters must be a positive integer, got ${masters}`);
  }
  const network = await startNatNetwork();
  const cluster = new NamespaceCluster(network, options.portOffset ?? 30_000);
  try {
    const firstPort = options.firstPort ?? 6379;
    for (let i = 0; i < masters; i++) {
      const from = Math.floor((i * SLOT_COUNT) / masters);
      const to = Math.floor(((i + 1) * SLOT_COUNT) / masters) - 1;
      await cluster.addNode(firstPort + i, [from, to], options.config ?? {});
    }
    await cluster.form(options.timeoutMs ?? 30_000);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

interface NodeProcess {
  node: NatNamespaceNode;
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

class NamespaceCluster implements NatNamespaceCluster {
  readonly nodes: NatNamespaceNode[] = [];
  #processes: NodeProcess[] = [];
  #clients = new ClientSet();
  #stopping: Promise<void> | undefined;

  constructor(
    readonly network: NatNetwork,
    readonly portOffset: number,
  ) {}

  async addNode(port: number, slots: [number, number], config: RedisConfig): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-netns-redis-'));
    trackDir(dir);
    const host = this.network.internalHost;
    const reachablePort = await this.network.forward(port, this.portOffset);
    const node: NatNamespaceNode = {
      internal: { host, port },
      reachable: { host: this.network.routerHost, port: reachablePort },
      slots,
      dir,
    };
    this.nodes.push(node);
    const args = [
      'netns',
      'exec',
      this.network.inside,
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      '--port',
      String(port),
      '--bind',
      host,
      '--dir',
      dir,
      '--logfile',
      path.join(dir, 'redis.log'),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '2000',
      '--cluster-announce-ip',
      host,
      '--cluster-require-full-coverage',
      'no',
      ...serverArgs({ config }),
    ];
    // `ip netns exec` enters the namespace and execs redis-server: the child's pid is the server's.
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackProcess(child);
    child.unref();
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (output = (output + chunk).slice(-4096)));
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    this.#processes.push({ node, child, exited, output: () => output });
  }

  /** Every node answers through the router, then slots, epochs and MEETs, then `cluster_state:ok` everywhere. */
  async form(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(this.#processes.map((proc) => this.#waitUntilReady(proc, deadline)));
    const admins = this.nodes.map((node) => this.client(node, { maxRetriesPerRequest: 1 }));
    try {
      await Promise.all(
        admins.map(async (admin, index) => {
          const [from, to] = this.nodes[index].slots;
          await admin.call('CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1));
          await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
        }),
      );
      // MEET names internal addresses: the nodes reach each other inside the namespace, never via the NAT.
      for (const node of this.nodes.slice(1)) {
        await admins[0].call('CLUSTER', 'MEET', node.internal.host, String(node.internal.port));
      }
      let last = '';
      for (;;) {
        const views = await Promise.all(
          admins.map(async (admin) => ({
            info: String(await admin.call('CLUSTER', 'INFO')),
            nodes: String(await admin.call('CLUSTER', 'NODES')),
          })),
        );
        const known = (text: string) =>
          text
            .trim()
            .split('\n')
            .filter((line) => !/handshake|noaddr/.test(line)).length;
        if (
          views.every(
            (view) => view.info.includes('cluster_state:ok') && known(view.nodes) === this.nodes.length,
          )
        ) {
          return;
        }
        last = views.map((view) => /cluster_state:(\w+)/.exec(view.info)?.[1] ?? '?').join(',');
        if (Date.now() > deadline) {
          throw new ClusterStartError(
            `NAT'd cluster did not converge within ${timeoutMs} ms (states ${last})`,
          );
        }
        await sleep(50);
      }
    } finally {
      for (const admin of admins) admin.disconnect();
    }
  }

  async #waitUntilReady(proc: NodeProcess, deadline: number): Promise<void> {
    const { host, port } = proc.node.reachable;
    let exited = false;
    void proc.exited.then(() => (exited = true));
    let last = '';
    while (Date.now() < deadline) {
      if (exited) {
        throw new RedisStartError(
          `redis-server ${proc.node.internal.host}:${proc.node.internal.port} in namespace ` +
            `${this.network.inside} exited\n${await logTail(proc)}`,
        );
      }
      try {
        last = await pingOnce(host, port, {}, 1000);
        if (last === '+PONG') return;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(25);
    }
    throw new NetnsError(
      `redis-server ${proc.node.internal.host}:${proc.node.internal.port} did not answer at ${host}:${port} ` +
        `through the router (last: ${last})\n${await logTail(proc)}`,
      `DNAT to the namespace does not work (${last})`,
    );
  }

  natMap(): Record<string, string> {
    return Object.fromEntries(
      this.nodes.map((node) => [
        `${node.internal.host}:${node.internal.port}`,
        `${node.reachable.host}:${node.reachable.port}`,
      ]),
    );
  }

  natRule(): { match: string; host: string; port: { offset: number } } {
    return {
      match: this.network.internalSubnet,
      host: this.network.routerHost,
      port: { offset: this.portOffset },
    };
  }

  nodeForKey(key: string | Buffer): NatNamespaceNode {
    const slot = keySlot(key);
    const node = this.nodes.find(({ slots: [from, to] }) => slot >= from && slot <= to);
    if (!node) throw new ClusterStartError(`no node serves slot ${slot}`);
    return node;
  }

  client(node: NatNamespaceNode, overrides: RedisOptions = {}): Redis {
    return this.#clients.open({ host: node.reachable.host, port: node.reachable.port }, overrides);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#clients.disconnectAll();
    await Promise.all(
      this.#processes.map(async ({ child, exited }) => {
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await this.network.stop();
    await Promise.all(
      this.nodes.map(async ({ dir }) => {
        await rm(dir, { recursive: true, force: true });
        untrackDir(dir);
      }),
    );
  }
}

async function logTail(proc: NodeProcess): Promise<string> {
  const log = await readFile(path.join(proc.node.dir, 'redis.log'), 'utf8').catch(() => '');
  return [log.slice(-2048).trim(), proc.output().trim()].filter(Boolean).join('\n');
}

/**
 * Whether {@link startNatNamespaceCluster} can work here: `null` when a NAT network could be built and torn
 * down again, else the short reason it cannot (`not Linux`, `no CAP_NET_ADMIN ...`, `nft missing ...`,
 * `kernel lacks nf_tables/nf_nat ...`). Meant for `describe.skipIf` at collection time.
 */
export async function natNamespaceUnsupportedReason(): Promise<string | null> {
  try {
    const network = await startNatNetwork();
    await network.forward(6379, 30_000);
    await network.stop();
    return null;
  } catch (error) {
    if (error instanceof NetnsError) return error.reason;
    return (error as Error).message;
  }
}
