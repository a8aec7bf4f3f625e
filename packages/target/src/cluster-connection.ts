import { discoverTopology, type ClusterTopology } from './cluster-topology.js';
import type { CommandKeys } from './command-keys.js';
import {
  TargetConnectError,
  TargetConnectionLostError,
  TargetDbUnsupportedError,
  TargetWriteError,
  type TargetError,
} from './errors.js';
import type { Endpoint } from './handshake.js';
import { splitBySlot } from './cross-slot-split.js';
import { keySlot, SLOT_COUNT } from './key-slot.js';
import { RedisLink } from './redis-link.js';
import { errorFromReply } from './reply-error.js';
import { INTERNAL, type PendingReply, type Transport, type TransportEvents } from './transport.js';
import type { HostPort, RestoreRecord, TargetWriterOptions } from './types.js';

/** Redirections one command may follow before the cluster is considered unstable. */
const MAX_REDIRECTIONS = 16;
const TRYAGAIN_DELAY_MS = 100;
/**
 * Keyless commands whose effect is per node: a cluster target needs them on every master (a standalone source
 * flushing its data must flush every shard of the target).
 */
const BROADCAST = new Set(['FLUSHALL', 'FLUSHDB', 'FUNCTION', 'SCRIPT']);

/** A broadcast command, or one split per slot: done when every part was confirmed. */
interface BroadcastGroup {
  remaining: number;
  failed: boolean;
}

/** One command on its way to a node; kept until its reply so a redirection can re-send it. */
interface Route {
  pending: PendingReply;
  /** slot of its key; -1 for keyless and broadcast commands */
  slot: number;
  args: Buffer[] | null;
  record: RestoreRecord | null;
  redirections: number;
  group: BroadcastGroup | null;
}

const INTERNAL_ROUTE: Route = {
  pending: { seq: INTERNAL, name: 'ASKING', key: null, bytes: 0 },
  slot: -1,
  args: null,
  record: null,
  redirections: 0,
  group: null,
};

/**
 * A slot whose owner changed (MOVED) while commands for it were still out at the old owner: new commands for it
 * wait here until the old owner has answered all of those (their MOVED re-sends go first), so the new owner
 * receives the slot's commands in source order.
 */
interface MovingSlot {
  /** replies still expected from previous owners */
  stale: number;
  held: Route[];
}

/** A master, by its announced address. Commands for it queue while its link is being opened. */
interface ClusterNode {
  announced: string;
  label: string;
  link: RedisLink<Route> | null;
  waiting: Array<(link: RedisLink<Route>) => void>;
  /** per slot: routes sent to this node and not yet answered */
  outstanding: Uint32Array;
}

/**
 * A cluster target over one raw {@link RedisLink} per master (pipelined, one socket write per node per tick).
 * Routes by the slot of each command's key; follows MOVED (updating the slot) and ASK (`ASKING` + command on
 * the importing node) and retries TRYAGAIN — replies that mean the command did NOT run. Announced addresses
 * (from CLUSTER SLOTS and redirections) are translated with `natMap`. Nothing that may have run is re-sent, and
 * losing any master link is fatal.
 *
 * Order per slot survives a MOVED: later commands for that slot wait until the old owner has answered every
 * command it still had (see {@link MovingSlot}). Known limit: ASK and TRYAGAIN re-sends are not fenced that way
 * (ASK only concerns keys already gone from the old owner; TRYAGAIN only multi-key commands mid-migration).
 */
export class ClusterConnection implements Transport {
  events: TransportEvents | null = null;
  private readonly nodes = new Map<string, ClusterNode>();
  private readonly slots: ClusterNode[] = new Array<ClusterNode>(SLOT_COUNT);
  private readonly masters: ClusterNode[];
  private readonly commandKeys: CommandKeys;
  private nextKeyless = 0;
  private closing = false;
  private redirected = 0;
  private readonly moving = new Map<number, MovingSlot>();

  private constructor(
    private readonly options: TargetWriterOptions,
    readonly label: string,
    private readonly connectTimeoutMs: number,
    topology: ClusterTopology,
  ) {
    this.commandKeys = topology.commandKeys;
    this.masters = topology.masters.map((announced) => this.node(announced));
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.slots[slot] = this.node(topology.slotOwners[slot]);
  }

  /**
   * Discovers the slot map through a seed, checks every slot is served, and opens (AUTH + PING) a link to
   * every master at its reachable address.
   * @throws TargetConnectError | TargetAuthError
   */
  static async open(
    options: TargetWriterOptions,
    label: string,
    connectTimeoutMs: number,
  ): Promise<ClusterConnection> {
    const topology = await discoverTopology(options, label, connectTimeoutMs);
    const uncovered = topology.slotOwners.filter((owner) => owner === '').length;
    if (uncovered > 0) {
      throw new TargetConnectError(
        label,
        `cluster target ${label} does not serve ${uncovered} of ${SLOT_COUNT} slots (first: ` +
          `${topology.slotOwners.indexOf('')}): fix the cluster (redis-cli --cluster fix) before syncing`,
      );
    }
    const connection = new ClusterConnection(options, label, connectTimeoutMs, topology);
    try {
      await Promise.all(connection.masters.map((node) => connection.connectNode(node)));
    } catch (err) {
      await connection.close();
      throw err;
    }
    return connection;
  }

  get redirections(): number {
    return this.redirected;
  }

  restore(record: RestoreRecord, pending: PendingReply): void {
    const slot = keySlot(record.key);
    this.route(slot, { pending, slot, args: null, record, redirections: 0, group: null });
  }

  command(_db: number, args: Buffer[], pending: PendingReply): void {
    if (BROADCAST.has(pending.name)) {
      this.broadcast(args, pending);
      return;
    }
    const parts = this.options.crossSlot === 'error' ? null : splitBySlot(pending.name, args);
    if (parts) {
      // One reply for the source's command: confirmed once every part is.
      const group: BroadcastGroup = { remaining: parts.length, failed: false };
      for (const part of parts) {
        this.route(part.slot, {
          pending,
          slot: part.slot,
          args: part.args,
          record: null,
          redirections: 0,
          group,
        });
      }
      return;
    }
    const key = this.commandKeys.routingKey(pending.name, args);
    const slot = key ? keySlot(key) : -1;
    const route: Route = { pending, slot, args, record: null, redirections: 0, group: null };
    if (slot >= 0) this.route(slot, route);
    else this.send(this.masters[this.nextKeyless++ % this.masters.length], route, false);
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
    this.closing = true;
    await Promise.all([...this.nodes.values()].map((node) => node.link?.close()));
  }

  /** To every node that owns slots now (after redirections that may include nodes added since open). */
  private broadcast(args: Buffer[], pending: PendingReply): void {
    const owners = new Set(this.slots);
    const group: BroadcastGroup = { remaining: owners.size, failed: false };
    for (const node of owners) {
      this.send(node, { pending, slot: -1, args, record: null, redirections: 0, group }, false);
    }
  }

  /** A new command for `slot`: to its owner, unless the slot is moving (then after the stale replies). */
  private route(slot: number, route: Route): void {
    const moving = this.moving.get(slot);
    if (moving) moving.held.push(route);
    else this.send(this.slots[slot], route, false);
  }

  private send(node: ClusterNode, route: Route, asking: boolean): void {
    if (route.slot >= 0) node.outstanding[route.slot]++;
    const link = node.link;
    if (!link) {
      node.waiting.push((ready) => this.write(ready, route, asking));
      return;
    }
    this.write(link, route, asking);
  }

  private write(link: RedisLink<Route>, route: Route, asking: boolean): void {
    if (asking) link.asking(route.args ?? route.record!, route);
    else if (route.record) link.restore(route.record, route);
    else link.command(0, route.args!, route);
  }

  private onReply(node: ClusterNode, route: Route, error: string | null): void {
    if (this.closing) return;
    if (route.slot >= 0) this.settleSlot(node, route.slot);
    if (error !== null) {
      const space = error.indexOf(' ');
      const word = space === -1 ? error : error.slice(0, space);
      if ((word === 'MOVED' || word === 'ASK' || word === 'TRYAGAIN') && route !== INTERNAL_ROUTE) {
        this.redirect(node, route, word, error);
        return;
      }
      const mapped = errorFromReply(node.label, error, route.pending.name, route.pending.key);
      if (route.group) {
        if (route.group.failed) return;
        route.group.failed = true;
      }
      this.events?.onReply(route.pending, mapped);
      return;
    }
    if (route === INTERNAL_ROUTE) return;
    if (route.group && (route.group.failed || --route.group.remaining > 0)) return;
    this.events?.onReply(route.pending, null);
  }

  /** Counts a reply for `slot`; a moving slot whose stale replies are all in releases its held commands. */
  private settleSlot(from: ClusterNode, slot: number): void {
    from.outstanding[slot]--;
    const moving = this.moving.get(slot);
    if (!moving || from === this.slots[slot]) return;
    if (--moving.stale > 0) return;
    // After this reply's own handling (a MOVED re-send must go first), release the held commands in order.
    queueMicrotask(() => {
      if (this.moving.get(slot) !== moving || this.closing) return;
      this.moving.delete(slot);
      for (const route of moving.held) this.send(this.slots[slot], route, false);
    });
  }

  /** MOVED/ASK/TRYAGAIN: the node did not run the command; send it where the cluster says. */
  private redirect(from: ClusterNode, route: Route, word: string, error: string): void {
    this.redirected++;
    if (++route.redirections > MAX_REDIRECTIONS) {
      this.events?.onReply(
        route.pending,
        new TargetWriteError(
          from.label,
          `cluster target ${from.label}: ${route.pending.name} was redirected ${MAX_REDIRECTIONS} times ` +
            `(last: ${error}) — the target's slots keep moving; retry once resharding has finished`,
        ),
      );
      return;
    }
    if (word === 'TRYAGAIN') {
      // A multi-key command during a migration: same node again, shortly.
      setTimeout(() => !this.closing && this.send(from, route, false), TRYAGAIN_DELAY_MS);
      return;
    }
    const [, slotText, address] = error.split(' ');
    const to = this.node(address ?? '');
    if (word === 'MOVED') {
      const slot = Number(slotText);
      if (this.slots[slot] !== to) {
        this.slots[slot] = to;
        let stale = 0;
        for (const node of this.nodes.values()) if (node !== to) stale += node.outstanding[slot];
        if (stale > 0 && !this.moving.has(slot)) this.moving.set(slot, { stale, held: [] });
      }
    }
    this.send(to, route, word === 'ASK');
    if (!to.link && to.waiting.length === 1)
      void this.connectNode(to).catch((err: TargetError) => this.lose(err));
  }

  /** The node record for an announced address (created on first mention, not yet connected). */
  private node(announced: string): ClusterNode {
    let node = this.nodes.get(announced);
    if (!node) {
      const reachable = this.reachable(announced);
      const via = `${reachable.host}:${reachable.port}`;
      const label = `${this.label} node ${announced}${via === announced ? '' : ` (via ${via})`}`;
      node = { announced, label, link: null, waiting: [], outstanding: new Uint32Array(SLOT_COUNT) };
      this.nodes.set(announced, node);
    }
    return node;
  }

  private reachable(announced: string): HostPort {
    const mapped = this.options.natMap?.[announced];
    if (mapped) return mapped;
    const colon = announced.lastIndexOf(':');
    const endpoint = { host: announced.slice(0, colon), port: Number(announced.slice(colon + 1)) };
    return this.options.mapAddress ? this.options.mapAddress(endpoint) : endpoint;
  }

  private async connectNode(node: ClusterNode): Promise<void> {
    const { host, port } = this.reachable(node.announced);
    const endpoint: Endpoint = {
      host,
      port,
      tls: this.options.tls,
      username: this.options.username,
      password: this.options.password,
      connectTimeoutMs: this.connectTimeoutMs,
      label: node.label,
    };
    let link: RedisLink<Route>;
    try {
      link = await RedisLink.open(endpoint, INTERNAL_ROUTE);
    } catch (err) {
      const error = err as TargetError;
      if (error.code !== 'TARGET_CONNECT_FAILED') throw error;
      throw new TargetConnectError(
        node.label,
        `${error.message} — the cluster announces this node as ${node.announced}; if that address is not ` +
          `reachable from this worker, map it to a reachable address in natMap`,
        { cause: error },
      );
    }
    if (this.closing) {
      await link.close();
      return;
    }
    link.handlers = {
      onReply: (route, error) => this.onReply(node, route, error),
      onLost: (why, unconfirmed) =>
        this.lose(
          new TargetConnectionLostError(
            node.label,
            `lost the connection to cluster target ${node.label}: ${why}; ${unconfirmed} command(s) were ` +
              `unconfirmed and are not re-sent — check the target's health (failover, restarts); the shard ` +
              `resumes from its checkpoint`,
          ),
        ),
    };
    node.link = link;
    const waiting = node.waiting;
    node.waiting = [];
    for (const write of waiting) write(link);
  }

  private lose(error: TargetError): void {
    if (this.closing) return;
    this.events?.onLost(error);
  }
}
