import { encodeCommand } from '@shardbridge/resp';
import { everyByteSplitPoints, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { ReplProtocolError } from './errors.js';
import { ReplicationStream, type StreamEvent } from './replication-stream.js';

const MARK = Buffer.from('m'.repeat(40));
const rdb = Buffer.concat([Buffer.from('REDIS0010'), Buffer.alloc(3000, 0xab)]);
const commands = [
  ['SELECT', '0'],
  ['SET', 'k', 'v\r\nwith crlf'],
  ['PING'],
  ['REPLCONF', 'GETACK', '*'],
  ['LPUSH', 'l', 'x'.repeat(5000)],
  ['MULTI'],
  ['INCR', 'n'],
  ['EXEC'],
].map((args) => encodeCommand(args));
const stream = Buffer.concat(commands);

const forms = {
  disk: Buffer.concat([Buffer.from(`\n$${rdb.length}\r\n`), rdb, stream]),
  diskless: Buffer.concat([Buffer.from(`$EOF:${MARK.toString()}\r\n`), rdb, MARK, stream]),
  continue: stream,
};

function run(form: keyof typeof forms, splits: number[], startOffset: number) {
  const wire = forms[form];
  const events: StreamEvent[] = [];
  const framer = new ReplicationStream(startOffset, form !== 'continue', (e) => events.push(e));
  const rdbHeader = form === 'continue' ? 0 : wire.length - stream.length;
  let at = 0;
  for (const end of [...splits, wire.length]) {
    framer.push(wire.subarray(at, end));
    at = end;
    // a command is reported only once all of its bytes arrived
    const streamBytes = Math.max(0, at - rdbHeader);
    expect(framer.offset - startOffset).toBeLessThanOrEqual(streamBytes);
  }
  return { events, framer };
}

describe('ReplicationStream', () => {
  for (const form of ['disk', 'diskless', 'continue'] as const) {
    it(`${form}: RDB then commands with exact offsets, at any split`, () => {
      const wire = forms[form];
      const rnd = seededRandom(form.length);
      const splitSets: number[][] = [[], everyByteSplitPoints(wire.length)];
      for (let i = 0; i < 50; i++) {
        const points = new Set<number>();
        for (let j = 0; j < 1 + Math.floor(rnd() * 10); j++) points.add(Math.floor(rnd() * wire.length));
        splitSets.push([...points].sort((a, b) => a - b));
      }
      for (const splits of splitSets) {
        const { events, framer } = run(form, splits, 1000);
        const data = events.flatMap((e) => (e.kind === 'rdbData' ? [e.chunk] : []));
        const commandEvents = events.filter((e) => e.kind === 'command');
        if (form === 'continue') {
          expect(data).toHaveLength(0);
        } else {
          expect(events[0]).toEqual({ kind: 'rdbStart', size: form === 'disk' ? rdb.length : null });
          expect(Buffer.concat(data).equals(rdb)).toBe(true);
          expect(events.find((e) => e.kind === 'rdbEnd')).toEqual({ kind: 'rdbEnd', bytes: rdb.length });
        }
        let expected = 1000;
        expect(commandEvents.map((e) => e.offsetAfter)).toEqual(commands.map((c) => (expected += c.length)));
        expect(commandEvents[1].args[2].toString()).toBe('v\r\nwith crlf');
        expect(framer.offset).toBe(1000 + stream.length);
      }
    });
  }

  it('rejects a non-command in the stream with the offset of the bad byte', () => {
    const framer = new ReplicationStream(500, false, () => {});
    framer.push(encodeCommand(['PING']));
    expect(() => framer.push(Buffer.from('+OK\r\n'))).toThrow(ReplProtocolError);
    const other = new ReplicationStream(500, false, () => {});
    expect(() => other.push(Buffer.from('*1\r\n$4\r\nPING\r\nX'))).toThrow(/offset 514/);
  });
});
