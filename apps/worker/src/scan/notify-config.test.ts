import { describe, expect, it } from 'vitest';
import { notifiedKey, usableFlavour, withWantedFlags } from './notify-config.js';

describe('notify-keyspace-events flags', () => {
  it('needs K or E and every class that changes a key', () => {
    expect(usableFlavour('')).toBeNull();
    expect(usableFlavour('KA')).toBe('keyspace');
    expect(usableFlavour('AKE')).toBe('keyspace');
    expect(usableFlavour('EA')).toBe('keyevent');
    expect(usableFlavour('A')).toBeNull(); // no channel
    expect(usableFlavour('Kg$lshzxet')).toBe('keyspace');
    expect(usableFlavour('Kg$lshzx')).toBeNull(); // evictions and streams missing
    expect(usableFlavour('Ex')).toBeNull();
  });

  it('adds KA and keeps the flags already on', () => {
    expect(withWantedFlags('')).toBe('KA');
    expect(withWantedFlags('Ex')).toBe('ExKA');
    expect(usableFlavour(withWantedFlags('Eg'))).toBe('keyspace');
    expect(withWantedFlags('AK')).toBe('KA');
  });
});

describe('notifiedKey', () => {
  const b = (text: string) => Buffer.from(text, 'latin1');

  it('keyspace: db and key from the channel, binary keys untouched', () => {
    expect(notifiedKey(b('__keyspace@0__:user:1'), b('set'))).toEqual({ db: 0, key: b('user:1') });
    const binary = Buffer.concat([b('__keyspace@12__:'), Buffer.from([0, 0xff, 0x3a])]);
    expect(notifiedKey(binary, b('del'))).toEqual({ db: 12, key: Buffer.from([0, 0xff, 0x3a]) });
    expect(notifiedKey(b('__keyspace@3__:'), b('set'))).toEqual({ db: 3, key: b('') });
  });

  it('keyevent: db from the channel, key from the message', () => {
    expect(notifiedKey(b('__keyevent@5__:expired'), b('a:b'))).toEqual({ db: 5, key: b('a:b') });
  });

  it('anything else is not a notification', () => {
    expect(notifiedKey(b('news'), b('x'))).toBeNull();
    expect(notifiedKey(b('__keyspace@__:k'), b('set'))).toBeNull();
    expect(notifiedKey(b('__keyspace@1_:k'), b('set'))).toBeNull();
  });
});
