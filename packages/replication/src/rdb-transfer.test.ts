import { everyByteSplitPoints, randomSplitPoints, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { ReplProtocolError } from './errors.js';
import { EOF_MARK_LENGTH, RdbTransfer, type RdbTransferEvent } from './rdb-transfer.js';

function payloadOf(length: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

const MARK = Buffer.from('0123456789abcdef0123456789abcdef01234567');
const STREAM = Buffer.from('*1\r\n$4\r\nPING\r\n');

interface Outcome {
  events: Array<Exclude<RdbTransferEvent, { type: 'data' }> | { type: 'data' }>;
  payload: Buffer;
  rest: Buffer;
}

function run(wire: Buffer, splits: number[]): Outcome {
  const transfer = new RdbTransfer();
  const data: Buffer[] = [];
  const events: Outcome['events'] = [];
  let rest: Buffer | null = null;
  let at = 0;
  for (const end of [...splits, wire.length]) {
    const chunk = wire.subarray(at, end);
    at = end;
    if (rest !== null) {
      rest = Buffer.concat([rest, chunk]);
      continue;
    }
    rest = transfer.push(chunk, (e) => {
      if (e.type === 'data') {
        data.push(Buffer.from(e.chunk));
        if (events.at(-1)?.type !== 'data') events.push({ type: 'data' });
      } else {
        events.push(e);
      }
    });
  }
  return { events, payload: Buffer.concat(data), rest: rest ?? Buffer.alloc(0) };
}

/** 1 to 12 random split points. */
function splitsFor(length: number, seed: number): number[] {
  const rnd = seededRandom(seed);
  return randomSplitPoints(length, rnd, 1 + Math.floor(rnd() * 12));
}

const sizes = [0, 1, 39, 40, 41, 79, 80, 1000, 70_000];

describe('RdbTransfer', () => {
  for (const size of sizes) {
    const payload = payloadOf(size, size + 1);
    const disk = Buffer.concat([Buffer.from(`\n\n$${size}\r\n`), payload, STREAM]);
    const diskless = Buffer.concat([Buffer.from(`\n$EOF:${MARK.toString()}\r\n`), payload, MARK, STREAM]);
    for (const [form, wire, expectedSize] of [
      ['disk', disk, size],
      ['diskless', diskless, null],
    ] as const) {
      it(`${form} ${size} bytes: one chunk, byte by byte, random splits`, () => {
        const all = [[], everyByteSplitPoints(wire.length)];
        for (let seed = 1; seed <= 30; seed++) all.push(splitsFor(wire.length, seed));
        for (const splits of size > 5000 ? all.filter((s) => s.length < 100) : all) {
          const out = run(wire, splits);
          expect(out.events).toEqual(
            size === 0
              ? [
                  { type: 'start', size: expectedSize },
                  { type: 'end', bytes: 0 },
                ]
              : [{ type: 'start', size: expectedSize }, { type: 'data' }, { type: 'end', bytes: size }],
          );
          expect(out.payload.equals(payload)).toBe(true);
          expect(out.rest.equals(STREAM)).toBe(true);
        }
      });
    }
  }

  it('diskless: holds back at most the mark length and releases payload as it streams', () => {
    const transfer = new RdbTransfer();
    let released = 0;
    const emit = (e: RdbTransferEvent): void => {
      if (e.type === 'data') released += e.chunk.length;
    };
    transfer.push(Buffer.from(`$EOF:${MARK.toString()}\r\n`), emit);
    transfer.push(Buffer.alloc(1000, 1), emit);
    expect(released).toBe(1000 - EOF_MARK_LENGTH);
    transfer.push(Buffer.alloc(10, 2), emit);
    expect(released).toBe(1010 - EOF_MARK_LENGTH);
    expect(transfer.push(MARK, emit)?.length).toBe(0);
    expect(released).toBe(1010);
  });

  it('rejects a header that is not $', () => {
    expect(() => new RdbTransfer().push(Buffer.from('+OK\r\n'), () => {})).toThrow(ReplProtocolError);
    expect(() => new RdbTransfer().push(Buffer.from('$EOF:short\r\n'), () => {})).toThrow(/40/);
    expect(() => new RdbTransfer().push(Buffer.from('$12x\r\n'), () => {})).toThrow(ReplProtocolError);
  });
});
