import { Cluster, Command, type Redis } from 'ioredis';
import { TargetConnectError, TargetDbUnsupportedError, TargetError, TargetWriteError } from './errors.js';
import { errorFromReply } from './reply-error.js';
import { StandaloneConnection } from './standalone-connection.js';
import type { PendingReply, Transport, TransportEvents } from './transport.js';
import type { RestoreRecord, TargetWriterOptions } from './types.js';

const SLOTS = 16384;
const REPLACE = Buffer.from('REPLACE');
const ABSTTL = Buffer.from('ABSTTL');
const IDLETIME = Buffer.from('IDLETIME');
const FREQ = Buffer.from('FREQ');
const CONNECTION_CLOSED = 'Connection is closed.';
/**
 * Keyless commands whose effect is per node: a cluster target needs them on every master (a standalone source
 * flushing its data must flush every shard of the target).
 */
const BROADCAST = new Set(['flushall', 'flushdb', 'function', 'script']);

/**
 * A cluster target through ioredis `Cluster`: commands are routed by the slot of their first key (ioredis knows
 * every command's key positions), MOVED/ASK/TRYAGAIN redirections are followed (the target did not execute
 * those), and announced node addresses are translated with `natMap`.
 *
 * Nothing that may have been executed is ever re-sent: failover/cluster-down retries are off, node connections
 * never reconnect, and losing any node that serves slots is fatal.
 *
 * Known limit: while a slot migrates on the target, a redirected command is re-sent when its MOVED arrives, so
 * it can land after a later command for the same slot that was routed to the new owner directly.
 */
export class ClusterConnection implements Transport {
  events: TransportEvents | null = null;
  private closing = false;
  /** node sockets corked for the current tick: one writev per node per tick instead of one write per command */
  private corked: Array<Redis['stream']> | null = null;
  private readonly uncork = (): void => {
    const corked = this.corked ?? [];
    this.corked = null;
    for (const stream of corked) stream.uncork();
  };

  private constructor(
    private readonly cluster: Cluster,
    readonly label: string,
  ) {
    const watch = (redis: Redis): void => {
      redis.once('close', () => {
        // A node dropped by a slot refresh is already out of the pool; one that died is still in it.
        if (this.closing || !this.cluster.nodes('all').includes(redis)) return;
        this.lose(`node ${redis.options.host}:${redis.options.port} closed the connection`);
      });
    };
    for (const node of cluster.nodes('all')) watch(node);
    cluster.on('+node', watch);
    cluster.on('end', () => this.lose('the cluster client ended'));
  }

  /**
   * Probes a seed directly (clear connect/auth errors), then opens the cluster client, checks that all 16384
   * slots are served and that every master answers PING.
   */
  static async open(
    options: TargetWriterOptions,
    label: string,
    connectTimeoutMs: number,
  ): Promise<ClusterConnection> {
    await probeSeeds(options, label, connectTimeoutMs);
    const cluster = new Cluster(
      options.seeds.map((s) => ({ host: s.host, port: s.port })),
      {
        lazyConnect: true,
        natMap: options.natMap,
        scaleReads: 'master',
        clusterRetryStrategy: () => null,
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        retryDelayOnMoved: 0,
        slotsRefreshTimeout: connectTimeoutMs,
        redisOptions: {
          username: options.username,
          password: options.password,
          tls: options.tls,
          connectTimeout: connectTimeoutMs,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 0,
        },
      },
    );
    const nodeErrors: string[] = [];
    const onNodeError = (err: Error, key: string): void => {
      if (nodeErrors.length < 5) nodeErrors.push(`${key}: ${err.message}`);
    };
    cluster.on('node error', onNodeError);
    // ioredis also emits 'error' on the cluster; failures are reported through connect() and commands.
    cluster.on('error', () => undefined);
    try {
      await withTimeout(cluster.connect(), connectTimeoutMs * 2, 'the cluster client did not become ready');
      const uncovered = uncoveredSlots(cluster);
      if (uncovered.count > 0) {
        throw new TargetConnectError(
          label,
          `cluster target ${label} does not serve ${uncovered.count} of ${SLOTS} slots (first: ${uncovered.first}): ` +
            `fix the cluster (redis-cli --cluster fix) before syncing`,
        );
      }
      await Promise.all(
        cluster.nodes('master').map((node) =>
          withTimeout(node.ping(), connectTimeoutMs, 'no PING reply').catch((err: Error) => {
            throw new TargetConnectError(
              label,
              `cluster target ${label}: master ${node.options.host}:${node.options.port} does not answer ` +
                `(${err.message}) — if that is an address the cluster announces but this worker cannot reach, ` +
                `map it to a reachable address in natMap`,
            );
          }),
        ),
      );
    } catch (err) {
      cluster.disconnect();
      if (err instanceof TargetError) throw err;
      const detail = nodeErrors.length > 0 ? ` (node errors: ${nodeErrors.join('; ')})` : '';
      throw new TargetConnectError(
        label,
        `cannot open cluster target ${label}: ${(err as Error).message}${detail} — check the seeds, that the ` +
          `cluster is healthy, and that every announced node address is reachable (else map it in natMap)`,
        { cause: err },
      );
    }
    cluster.off('node error', onNodeError);
    return new ClusterConnection(cluster, label);
  }

  restore(record: RestoreRecord, pending: PendingReply): void {
    const ttl = record.expireAt === null ? '0' : String(Math.max(1, record.expireAt));
    const args: Array<Buffer | string> = [record.key, ttl, record.payload, REPLACE, ABSTTL];
    if (record.idle != null) args.push(IDLETIME, String(record.idle));
    else if (record.freq != null) args.push(FREQ, String(record.freq));
    this.send('restore', args, pending);
  }

  command(_db: number, args: Buffer[], pending: PendingReply): void {
    const name = args[0].toString('latin1').toLowerCase();
    if (BROADCAST.has(name)) this.broadcast(name, args.slice(1), pending);
    else this.send(name, args.slice(1), pending);
  }

  checkDb(db: number): TargetError | null {
    if (db === 0) return null;
    return new TargetDbUnsupportedError(
      this.label,
      `cluster target ${this.label} only has db 0, but the source uses db ${db}: ` +
        `sync that db to a standalone target, or exclude it from the plan`,
    );
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.cluster.disconnect();
  }

  private send(name: string, args: Array<Buffer | string>, pending: PendingReply): void {
    const command = new Command(name, args, { replyEncoding: null }, (err?: Error | null) => {
      if (this.closing && !err) return;
      this.events?.onReply(pending, err ? this.mapError(err, command, pending) : null);
    });
    if (this.corked === null) this.corkNodes();
    this.cluster.sendCommand(command);
  }

  /** Sends to every master over its own connection (so it stays in order with routed commands there). */
  private broadcast(name: string, args: Array<Buffer | string>, pending: PendingReply): void {
    const masters = this.cluster.nodes('master');
    let remaining = masters.length;
    let failed = false;
    for (const node of masters) {
      const command = new Command(name, args, { replyEncoding: null }, (err?: Error | null) => {
        if (failed || (this.closing && !err)) return;
        if (err) {
          failed = true;
          const where = `${node.options.host}:${node.options.port}`;
          this.events?.onReply(pending, this.mapError(err, command, pending, where));
        } else if (--remaining === 0) {
          this.events?.onReply(pending, null);
        }
      });
      node.sendCommand(command);
    }
  }

  private corkNodes(): void {
    const corked: Array<Redis['stream']> = [];
    for (const node of this.cluster.nodes('master')) {
      const stream = node.stream as Redis['stream'] | undefined;
      if (stream?.writable) {
        stream.cork();
        corked.push(stream);
      }
    }
    this.corked = corked;
    process.nextTick(this.uncork);
  }

  private mapError(err: Error, command: Command, pending: PendingReply, nodeKey?: string): TargetError {
    const slot = command.getSlot();
    const node = nodeKey ?? (slot === null ? undefined : this.cluster.slots[slot]?.[0]);
    const where = node ? `${this.label} node ${node}` : this.label;
    if (err.name === 'ReplyError') return errorFromReply(where, err.message, pending.name, pending.key);
    if (err.message === CONNECTION_CLOSED) {
      return new TargetConnectError(
        where,
        `lost the connection to cluster target ${where} before ${pending.name} was confirmed; unconfirmed ` +
          `commands are not re-sent — check the target's health; the shard resumes from its checkpoint`,
      );
    }
    return new TargetWriteError(
      where,
      `cluster target ${where} could not run ${pending.name}: ${err.message}`,
    );
  }

  private lose(why: string): void {
    if (this.closing) return;
    this.closing = true;
    this.cluster.disconnect();
    this.events?.onLost(
      new TargetConnectError(
        this.label,
        `lost the cluster target ${this.label}: ${why}; unconfirmed commands are not re-sent — check the ` +
          `target's health (failover, restarts); the shard resumes from its checkpoint`,
      ),
    );
  }
}

/** Opens and closes a plain connection to the first seed that answers, for precise connect/auth errors. */
async function probeSeeds(
  options: TargetWriterOptions,
  label: string,
  connectTimeoutMs: number,
): Promise<void> {
  let lastError: TargetError | null = null;
  for (const seed of options.seeds) {
    try {
      const probe = await StandaloneConnection.open({
        host: seed.host,
        port: seed.port,
        tls: options.tls,
        username: options.username,
        password: options.password,
        connectTimeoutMs,
        label: `${label} seed ${seed.host}:${seed.port}`,
      });
      await probe.close();
      return;
    } catch (err) {
      if (!(err instanceof TargetError) || err.code !== 'TARGET_CONNECT_FAILED') throw err;
      lastError = err;
    }
  }
  throw lastError ?? new TargetConnectError(label, `cluster target ${label}: no seed address given`);
}

function uncoveredSlots(cluster: Cluster): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let slot = 0; slot < SLOTS; slot++) {
    if (!cluster.slots[slot]?.length) {
      if (first < 0) first = slot;
      count++;
    }
  }
  return { count, first };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
