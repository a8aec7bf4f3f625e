import { describe, expect, it } from 'vitest';
import { DirtyKeys } from './dirty-keys.js';

describe('DirtyKeys', () => {
  it('coalesces a key waiting for its re-read, oldest first, per db', () => {
    const dirty = new DirtyKeys(10);
    dirty.add(0, Buffer.from('a'));
    dirty.add(0, Buffer.from('b'));
    dirty.add(0, Buffer.from('a'));
    dirty.add(1, Buffer.from('a'));
    expect(dirty.size).toBe(3);
    expect(dirty.take()).toEqual({ db: 0, key: Buffer.from('a') });
    // taken (re-read in flight) then notified again: it waits again
    dirty.add(0, Buffer.from('a'));
    expect([dirty.take(), dirty.take(), dirty.take(), dirty.take()]).toEqual([
      { db: 0, key: Buffer.from('b') },
      { db: 1, key: Buffer.from('a') },
      { db: 0, key: Buffer.from('a') },
      undefined,
    ]);
  });

  it('keeps its own copy of a key (notification buffers are views of socket chunks)', () => {
    const dirty = new DirtyKeys(10);
    const chunk = Buffer.from('key');
    dirty.add(0, chunk);
    chunk.fill(0x21);
    expect(dirty.take()?.key.toString()).toBe('key');
  });

  it('past its bound it drops everything and says so (the caller re-scans)', () => {
    const dirty = new DirtyKeys(2);
    expect(dirty.add(0, Buffer.from('a'))).toBe(true);
    expect(dirty.add(0, Buffer.from('b'))).toBe(true);
    expect(dirty.add(0, Buffer.from('a'))).toBe(true);
    expect(dirty.add(0, Buffer.from('c'))).toBe(false);
    expect(dirty.size).toBe(0);
  });
});
