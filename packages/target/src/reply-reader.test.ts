import { byteByByte, randomChunks, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { ReplyReader } from './reply-reader.js';

const STREAM = Buffer.concat([
  Buffer.from('+OK\r\n'),
  Buffer.from(':42\r\n'),
  Buffer.from("-OOM command not allowed when used memory > 'maxmemory'.\r\n"),
  Buffer.from('$5\r\nhe\r\no\r\n'), // bulk containing CRLF
  Buffer.from('$-1\r\n'),
  Buffer.from('*-1\r\n'),
  Buffer.from('*0\r\n'),
  Buffer.from('*3\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n*2\r\n:1\r\n-ERR second\r\n'), // EXEC result
  Buffer.from('$0\r\n\r\n'),
  Buffer.from('+PONG\r\n'),
]);
const EXPECTED = [
  null,
  null,
  "OOM command not allowed when used memory > 'maxmemory'.",
  null,
  null,
  null,
  null,
  'WRONGTYPE Operation against a key',
  null,
  null,
];

function readAll(chunks: Buffer[]): Array<string | null> {
  const out: Array<string | null> = [];
  const reader = new ReplyReader((e) => out.push(e));
  for (const c of chunks) reader.feed(c);
  expect(reader.pendingBytes).toBe(0);
  return out;
}

describe('ReplyReader', () => {
  it('reads a stream given as one chunk', () => {
    expect(readAll([STREAM])).toEqual(EXPECTED);
  });

  it('reads a stream given byte by byte', () => {
    expect(readAll([...byteByByte(STREAM)])).toEqual(EXPECTED);
  });

  it('reads a stream split at random points', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      expect(readAll([...randomChunks(STREAM, random, 12)])).toEqual(EXPECTED);
    }
  });

  it('waits for a large bulk reply without re-scanning every chunk', () => {
    const value = Buffer.alloc(1_000_000, 0x61);
    const reply = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n+OK\r\n')]);
    const out: Array<string | null> = [];
    const reader = new ReplyReader((e) => out.push(e));
    for (let pos = 0; pos < reply.length; pos += 1000) {
      reader.feed(reply.subarray(pos, pos + 1000));
      if (pos + 1000 < value.length) expect(out).toEqual([]);
    }
    expect(out).toEqual([null, null]);
  });

  it('rejects bytes that are not RESP', () => {
    const reader = new ReplyReader(() => undefined);
    expect(() => reader.feed(Buffer.from('hello\r\n'))).toThrow(/invalid reply/);
  });
});
