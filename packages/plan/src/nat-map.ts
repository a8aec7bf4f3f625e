import { formatHostPort, parseHostPort, type HostPort } from './host-port.js';

/** How a reachable address was obtained from an announced one. */
export type NatMappedBy = 'natMap' | 'identity';

/** An announced address resolved to the address this side dials. */
export interface NatMapping {
  reachable: HostPort;
  mappedBy: NatMappedBy;
}

/** A natMap entry or an address handed to the mapper is not `host:port`. */
export class NatMapError extends Error {
  readonly code = 'PLAN_NATMAP_INVALID';
  override name = 'NatMapError';
}

/**
 * Applies a plan's natMap (announced `host:port` → reachable `host:port`). Hosts compare case-insensitively,
 * as DNS names do; ports exactly. An address without an entry is reachable as announced (`identity`).
 */
export class NatMapper {
  /** key: normalised announced address (lower-case host, IPv6 bracketed) */
  readonly #entries = new Map<string, { announced: HostPort; reachable: HostPort }>();

  constructor(natMap: Record<string, string> = {}) {
    for (const [from, to] of Object.entries(natMap)) {
      const announced = parseHostPort(from);
      const reachable = parseHostPort(to);
      if (!announced) throw new NatMapError(`natMap key "${from}" is not "host:port"`);
      if (!reachable) throw new NatMapError(`natMap value "${to}" (for "${from}") is not "host:port"`);
      this.#entries.set(normalise(announced), { announced, reachable });
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `announced` has an entry. */
  has(announced: HostPort | string): boolean {
    return this.#entries.has(normalise(toHostPort(announced)));
  }

  map(announced: HostPort | string): NatMapping {
    const address = toHostPort(announced);
    const entry = this.#entries.get(normalise(address));
    if (entry) return { reachable: { ...entry.reachable }, mappedBy: 'natMap' };
    return { reachable: { ...address }, mappedBy: 'identity' };
  }

  /**
   * The same map in ioredis's `natMap` shape. ioredis looks entries up by the exact text `${host}:${port}`
   * (IPv6 unbracketed, case as the cluster announces it), so each entry is keyed as written in the plan and,
   * when different, in lower case.
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
