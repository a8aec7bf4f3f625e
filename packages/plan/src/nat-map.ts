import { formatHostPort, parseHostPort, type HostPort } from './host-port.js';
import { parseHostMatcher, type HostMatcher } from './nat-rule-match.js';
import type { NatRule } from './plan-schema.js';

/**
 * How a reachable address was obtained from an announced one: an exact `natMap` entry, a `natRules` rule, a
 * `natDiscover` address whose CLUSTER MYID is the node's id, or none (dialled as announced).
 */
export type NatMappedBy = 'natMap' | 'natRule' | 'natDiscover' | 'identity';

/** An announced address resolved to the address this side dials. */
export interface NatMapping {
  reachable: HostPort;
  mappedBy: NatMappedBy;
  /** index in natRules of the rule that matched (`mappedBy: 'natRule'` only) */
  rule?: number;
}

/** A natMap entry, a rule or an address handed to the mapper is not usable. */
export class NatMapError extends Error {
  readonly code = 'PLAN_NATMAP_INVALID';
  override name = 'NatMapError';
}

/** Rules the mapper applies besides natMap. */
export interface NatMapperOptions {
  /**
   * Ordered rules, tried after natMap; the first match wins.
   * @defaultValue `[]`
   */
  natRules?: readonly NatRule[];
  /**
   * Node id → reachable address, as natDiscover found them (see `discoverNatAddresses`); consulted after the
   * rules, only when the caller knows the node id of the announced address.
   * @defaultValue empty
   */
  discovered?: ReadonlyMap<string, HostPort>;
}

interface CompiledRule {
  matcher: HostMatcher;
  rule: NatRule;
}

/**
 * Maps announced addresses to reachable ones: natMap (exact, hosts case-insensitive, ports exact) first, then
 * natRules in order, then natDiscover by node id; an address nothing maps is reachable as announced
 * (`identity`).
 */
export class NatMapper {
  /** key: normalised announced address (lower-case host, IPv6 bracketed) */
  readonly #entries = new Map<string, { announced: HostPort; reachable: HostPort }>();
  readonly #rules: CompiledRule[] = [];
  readonly #discovered: ReadonlyMap<string, HostPort>;
  readonly #natMap: Record<string, string>;

  constructor(natMap: Record<string, string> = {}, options: NatMapperOptions = {}) {
    this.#natMap = natMap;
    for (const [from, to] of Object.entries(natMap)) {
      const announced = parseHostPort(from);
      const reachable = parseHostPort(to);
      if (!announced) throw new NatMapError(`natMap key "${from}" is not "host:port"`);
      if (!reachable) throw new NatMapError(`natMap value "${to}" (for "${from}") is not "host:port"`);
      this.#entries.set(normalise(announced), { announced, reachable });
    }
    for (const [index, rule] of (options.natRules ?? []).entries()) {
      const matcher = parseHostMatcher(rule.match);
      if (!matcher)
        throw new NatMapError(`natRules[${index}].match "${rule.match}" is not a CIDR, *.suffix or host`);
      this.#rules.push({ matcher, rule });
    }
    this.#discovered = options.discovered ?? new Map();
  }

  /** Number of natMap entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Number of natRules. */
  get ruleCount(): number {
    return this.#rules.length;
  }

  /** A mapper with the same natMap and rules, and `discovered` (node id → reachable) from natDiscover. */
  withDiscovered(discovered: ReadonlyMap<string, HostPort>): NatMapper {
    return new NatMapper(this.#natMap, { natRules: this.#rules.map(({ rule }) => rule), discovered });
  }

  /** Whether `announced` has a natMap entry. */
  has(announced: HostPort | string): boolean {
    return this.#entries.has(normalise(toHostPort(announced)));
  }

  /**
   * Where to dial `announced`. `nodeId` (when known) lets a natDiscover result apply. Throws NatMapError when a
   * rule's port offset leaves 1..65535.
   */
  map(announced: HostPort | string, nodeId?: string | null): NatMapping {
    const address = toHostPort(announced);
    const entry = this.#entries.get(normalise(address));
    if (entry) return { reachable: { ...entry.reachable }, mappedBy: 'natMap' };
    for (const [index, { matcher, rule }] of this.#rules.entries()) {
      if (!matcher.matches(address.host)) continue;
      const port = rulePort(rule, address.port, index);
      if (port === null) continue;
      return { reachable: { host: rule.host, port }, mappedBy: 'natRule', rule: index };
    }
    const found = nodeId ? this.#discovered.get(nodeId) : undefined;
    if (found) return { reachable: { ...found }, mappedBy: 'natDiscover' };
    return { reachable: { ...address }, mappedBy: 'identity' };
  }

  /**
   * The natMap entries in ioredis's `natMap` shape. ioredis looks entries up by the exact text `${host}:${port}`
   * (IPv6 unbracketed, case as the cluster announces it), so each entry is keyed as written in the plan and,
   * when different, in lower case. Rules and natDiscover are not in it: use {@link toIoredisNatMapFunction}.
   */
  toIoredisNatMap(): Record<string, { host: string; port: number }> {
    const result: Record<string, { host: string; port: number }> = {};
    for (const { announced, reachable } of this.#entries.values()) {
      for (const host of new Set([announced.host, announced.host.toLowerCase()])) {
        result[`${host}:${announced.port}`] = { host: reachable.host, port: reachable.port };
      }
    }
    return result;
  }

  /**
   * ioredis's function form of `natMap` (ioredis ≥ 5.4): natMap entries and rules; natDiscover results for
   * the announced addresses in `known` (announced → node id, e.g. from a topology), since ioredis hands over
   * only the address. Returns null for an address nothing maps, which ioredis dials as announced.
   */
  toIoredisNatMapFunction(
    known: ReadonlyMap<string, string> = new Map(),
  ): (key: string) => { host: string; port: number } | null {
    return (key) => {
      const colon = key.lastIndexOf(':');
      const port = Number(key.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
      const announced = { host: key.slice(0, colon), port };
      const mapping = this.map(announced, known.get(normalise(announced)) ?? null);
      return mapping.mappedBy === 'identity' ? null : mapping.reachable;
    };
  }

  /**
   * Every mapped node of `nodes` as a plan-form natMap (announced `host:port` → reachable `host:port`): a
   * flat map a worker can use without the rules or the natDiscover dial.
   */
  resolve(nodes: ReadonlyArray<{ announced: HostPort; nodeId?: string | null }>): Record<string, string> {
    const result: Record<string, string> = {};
    for (const { announced, nodeId } of nodes) {
      const mapping = this.map(announced, nodeId);
      if (mapping.mappedBy !== 'identity')
        result[formatHostPort(announced)] = formatHostPort(mapping.reachable);
    }
    return result;
  }
}

/** Normalised key of an announced address for lookups (lower-case host, IPv6 bracketed). */
export function normaliseAddress(address: HostPort): string {
  return normalise(address);
}

function rulePort(rule: NatRule, announcedPort: number, index: number): number | null {
  const spec = rule.port ?? 'same';
  if (spec === 'same') return announcedPort;
  if ('offset' in spec) {
    const port = announcedPort + spec.offset;
    if (port < 1 || port > 65535) {
      throw new NatMapError(
        `natRules[${index}] maps port ${announcedPort} to ${port} (offset ${spec.offset}), outside 1..65535`,
      );
    }
    return port;
  }
  return spec.map[String(announcedPort)] ?? null;
}

function toHostPort(address: HostPort | string): HostPort {
  if (typeof address !== 'string') return address;
  const parsed = parseHostPort(address);
  if (!parsed) throw new NatMapError(`"${address}" is not "host:port"`);
  return parsed;
}

function normalise(address: HostPort): string {
  return formatHostPort({ host: address.host.toLowerCase(), port: address.port });
}
