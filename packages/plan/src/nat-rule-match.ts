import { BlockList, isIP } from 'node:net';

/** A parsed natRules `match`: tests whether an announced host falls under it. */
export interface HostMatcher {
  readonly kind: 'cidr' | 'suffix' | 'exact';
  matches(host: string): boolean;
}

/**
 * Parses a natRules `match`: `a.b.c.d/n` or `v6/n` (CIDR), `*.suffix` (any host ending in `.suffix`, compared
 * case-insensitively; not the suffix itself) or an exact host name / IP address. Returns null when the text is
 * none of them. A CIDR only ever matches IP literals: a host name is not resolved to decide a rule.
 */
export function parseHostMatcher(text: string): HostMatcher | null {
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const network = text.slice(0, slash);
    const bits = text.slice(slash + 1);
    const family = isIP(network);
    if (family === 0 || !/^\d{1,3}$/.test(bits)) return null;
    const prefix = Number(bits);
    if (prefix > (family === 4 ? 32 : 128)) return null;
    const list = new BlockList();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(network, prefix, type);
    return {
      kind: 'cidr',
      matches: (host) => {
        const hostFamily = isIP(host);
        // An IPv4-mapped IPv6 host (::ffff:10.0.0.1) is checked against IPv4 networks too.
        if (hostFamily === 4) return list.check(host, 'ipv4');
        if (hostFamily === 6) return list.check(host, 'ipv6');
        return false;
      },
    };
  }
  if (text.startsWith('*.')) {
    const suffix = text.slice(1).toLowerCase();
    if (!isHostName(suffix.slice(1))) return null;
    return {
      kind: 'suffix',
      matches: (host) => host.toLowerCase().endsWith(suffix) && host.length > suffix.length,
    };
  }
  if (isIP(text) === 0 && !isHostName(text)) return null;
  const exact = text.toLowerCase();
  return { kind: 'exact', matches: (host) => host.toLowerCase() === exact };
}

/** Whether `text` is a valid natRules `match` (for the plan schema). */
export function isNatRuleMatch(text: string): boolean {
  return parseHostMatcher(text) !== null;
}

function isHostName(text: string): boolean {
  return /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/.test(
    text,
  );
}
