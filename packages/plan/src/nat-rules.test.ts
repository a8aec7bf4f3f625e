import { describe, expect, it } from 'vitest';
import { NatMapError, NatMapper } from './nat-map.js';
import { parseHostMatcher } from './nat-rule-match.js';

describe('parseHostMatcher', () => {
  it('matches IPv4 and IPv6 CIDRs against IP literals only', () => {
    const v4 = parseHostMatcher('10.0.0.0/8')!;
    expect(v4.kind).toBe('cidr');
    expect(v4.matches('10.1.2.3')).toBe(true);
    expect(v4.matches('11.0.0.1')).toBe(false);
    expect(v4.matches('ten.example')).toBe(false);
    const v6 = parseHostMatcher('fd00::/8')!;
    expect(v6.matches('fd12::1')).toBe(true);
    expect(v6.matches('fe80::1')).toBe(false);
    expect(v6.matches('10.0.0.1')).toBe(false);
  });

  it('matches *.suffix wildcards case-insensitively, but not the bare suffix', () => {
    const suffix = parseHostMatcher('*.internal.example')!;
    expect(suffix.matches('node-1.Internal.Example')).toBe(true);
    expect(suffix.matches('a.b.internal.example')).toBe(true);
    expect(suffix.matches('internal.example')).toBe(false);
    expect(suffix.matches('evilinternal.example')).toBe(false);
  });

  it('matches exact hosts and IPs', () => {
    expect(parseHostMatcher('Node-A')!.matches('node-a')).toBe(true);
    expect(parseHostMatcher('10.0.0.1')!.matches('10.0.0.10')).toBe(false);
  });

  it('refuses what is none of them', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'host/8', '*.', '*', 'a b', '', '-x.example']) {
      expect(parseHostMatcher(bad), bad).toBeNull();
    }
  });
});

describe('NatMapper with natRules and natDiscover', () => {
  const mapper = new NatMapper(
    { '10.0.0.1:7000': 'exact:1' },
    {
      natRules: [
        { match: '10.0.0.0/24', host: '203.0.113.7', port: { offset: 10000 } },
        { match: '*.internal.example', host: 'gw', port: { map: { '6379': 16379 } } },
        { match: '*.internal.example', host: 'fallback', port: 'same' },
        { match: 'fd00::/8', host: '::1', port: 'same' },
      ],
    },
  );

  it('applies natMap first, then the first matching rule', () => {
    expect(mapper.map('10.0.0.1:7000')).toEqual({
      reachable: { host: 'exact', port: 1 },
      mappedBy: 'natMap',
    });
    expect(mapper.map('10.0.0.2:7000')).toEqual({
      reachable: { host: '203.0.113.7', port: 17000 },
      mappedBy: 'natRule',
      rule: 0,
    });
    expect(mapper.map('a.internal.example:6379')).toMatchObject({
      reachable: { host: 'gw', port: 16379 },
      rule: 1,
    });
    // a port missing from a rule's map falls through to the next rule
    expect(mapper.map('a.internal.example:7000')).toMatchObject({
      reachable: { host: 'fallback', port: 7000 },
      rule: 2,
    });
    expect(mapper.map('[fd00::5]:6379')).toMatchObject({ reachable: { host: '::1', port: 6379 }, rule: 3 });
    expect(mapper.map('10.0.1.1:7000').mappedBy).toBe('identity');
  });

  it('refuses an offset that leaves the port range', () => {
    expect(() => mapper.map('10.0.0.2:60000')).toThrow(NatMapError);
  });

  it('uses natDiscover results by node id, after natMap and rules', () => {
    const discovered = mapper.withDiscovered(new Map([['id-1', { host: '127.0.0.1', port: 9 }]]));
    expect(discovered.map('10.9.9.9:7000', 'id-1')).toEqual({
      reachable: { host: '127.0.0.1', port: 9 },
      mappedBy: 'natDiscover',
    });
    expect(discovered.map('10.9.9.9:7000', 'id-2').mappedBy).toBe('identity');
    expect(discovered.map('10.0.0.1:7000', 'id-1').mappedBy).toBe('natMap');
  });

  it('flattens to a plan natMap and to the ioredis natMap function', () => {
    const nodes = [
      { announced: { host: '10.0.0.2', port: 7000 } },
      { announced: { host: '10.0.1.1', port: 7000 } },
    ];
    expect(mapper.resolve(nodes)).toEqual({ '10.0.0.2:7000': '203.0.113.7:17000' });
    const fn = mapper.toIoredisNatMapFunction();
    expect(fn('10.0.0.2:7000')).toEqual({ host: '203.0.113.7', port: 17000 });
    expect(fn('fd00::5:6379')).toEqual({ host: '::1', port: 6379 });
    expect(fn('10.0.1.1:7000')).toBeNull();
  });
});
