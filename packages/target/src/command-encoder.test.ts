import { describe, expect, it } from 'vitest';
import { CommandEncoder } from './command-encoder.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (e: CommandEncoder) => Buffer.concat(e.take()).toString('latin1');

describe('CommandEncoder', () => {
  it('encodes commands, SELECT and RESTORE', () => {
    const e = new CommandEncoder();
    e.command([b('SET'), b('k'), b('')]);
    e.select(12);
    e.restore({ db: 0, key: b('key'), expireAt: null, payload: b('\x00\x01v') });
    e.restore({ db: 0, key: b('t'), expireAt: 1700000000123, payload: b('p'), idle: 0 });
    e.restore({ db: 0, key: b('f'), expireAt: 0, payload: b('p'), freq: 255 });
    expect(e.size).toBeGreaterThan(0);
    expect(text(e)).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n' +
        '*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n' +
        '*6\r\n$7\r\nRESTORE\r\n$3\r\nkey\r\n$1\r\n0\r\n$3\r\n\x00\x01v\r\n$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n' +
        '*8\r\n$7\r\nRESTORE\r\n$1\r\nt\r\n$13\r\n1700000000123\r\n$1\r\np\r\n$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n' +
        '$8\r\nIDLETIME\r\n$1\r\n0\r\n' +
        '*8\r\n$7\r\nRESTORE\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\np\r\n$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n' +
        '$4\r\nFREQ\r\n$3\r\n255\r\n',
    );
    expect(e.size).toBe(0);
    expect(e.take()).toEqual([]);
  });

  it('references large arguments and spans many chunks in order', () => {
    const e = new CommandEncoder();
    const big = Buffer.alloc(100_000, 0x62);
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const v = i % 1000 === 0 ? big : b(`value-${i}`);
      e.command([b('SET'), b(`key:${i}`), v]);
      expected.push(
        `*3\r\n$3\r\nSET\r\n$${`key:${i}`.length}\r\nkey:${i}\r\n$${v.length}\r\n${v.toString('latin1')}\r\n`,
      );
    }
    const parts = e.take();
    expect(parts).toContain(big);
    expect(Buffer.concat(parts).toString('latin1')).toBe(expected.join(''));
  });
});
