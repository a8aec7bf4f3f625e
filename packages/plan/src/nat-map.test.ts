import { describe, expect, it } from 'vitest';
import { NatMapError, NatMapper } from './nat-map.js';

describe('NatMapper', () => {
  const mapper = new NatMapper({
    'Node-1.Internal.invalid:7001': '127.0.0.1:17001',
    '[fd00::5]:6379': '[::1]:16379',
    '10.0.0.5:6379': 'bastion.example.com:6000',
  });

  it('maps an announced address, ignoring host case', () => {
    expect(mapper.map('node-1.internal.INVALID:7001')).toEqual({
      reachable: { host: '127.0.0.1', port: 17001 },
      mappedBy: 'natMap',
    });
    expect(mapper.map({ host: 'NODE-1.internal.invalid', port: 7001 }).mappedBy).toBe('natMap');
  });

  it('compares ports exactly and passes unknown addresses through', () => {
    expect(mapper.map('node-1.internal.invalid:7002')).toEqual({
      reachable: { host: 'node-1.internal.invalid', port: 7002 },
      mappedBy: 'identity',
    });
    expect(mapper.map({ host: '10.0.0.6', port: 6379 }).mappedBy).toBe('identity');
  });

  it('handles IPv6 in brackets as text and unbracketed as HostPort', () => {
    expect(mapper.map('[FD00::5]:6379').reachable).toEqual({ host: '::1', port: 16379 });
    expect(mapper.map({ host: 'fd00::5', port: 6379 }).reachable).toEqual({ host: '::1', port: 16379 });
  });

  it('returns copies, not its own entries', () => {
    mapper.map('10.0.0.5:6379').reachable.port = 1;
    expect(mapper.map('10.0.0.5:6379').reachable.port).toBe(6000);
  });

  it('converts to the ioredis natMap shape (exact-text keys, IPv6 unbracketed)', () => {
    expect(mapper.toIoredisNatMap()).toEqual({
      'Node-1.Internal.invalid:7001': { host: '127.0.0.1', port: 17001 },
      'node-1.internal.invalid:7001': { host: '127.0.0.1', port: 17001 },
      'fd00::5:6379': { host: '::1', port: 16379 },
      '10.0.0.5:6379': { host: 'bastion.example.com', port: 6000 },
    });
  });

  it('is empty without a map', () => {
    const empty = new NatMapper();
    expect(empty.size).toBe(0);
    expect(empty.map('h:1')).toEqual({ reachable: { host: 'h', port: 1 }, mappedBy: 'identity' });
    expect(empty.toIoredisNatMap()).toEqual({});
  });

  it('refuses entries and addresses that are not host:port', () => {
    expect(() => new NatMapper({ nohost: '127.0.0.1:1' })).toThrow(NatMapError);
    expect(() => new NatMapper({ 'a:1': 'b:0' })).toThrow(/natMap value "b:0"/);
    expect(() => mapper.map('oops')).toThrow(NatMapError);
  });
});
