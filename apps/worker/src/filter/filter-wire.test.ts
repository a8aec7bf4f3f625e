import { describe, expect, it } from 'vitest';
import { encodeCommand, frameToArgs, RespDecoder } from '@shardbridge/resp';
import type { SyncFilterSpec } from '@shardbridge/plan';
import { CommandFilter } from './command-filter.js';
import { CommandRules } from './command-rules.js';

/**
 * The stream as bytes: RESP in (as the source sends it, in chunks of every size), the filter, RESP out (as the
 * target receives it). Kept commands come out byte for byte as they went in; binary keys and values survive.
 */
function through(spec: SyncFilterSpec, input: Buffer, chunk: number): Buffer {
  const filter = new CommandFilter(new CommandRules(spec), 0, 0);
  const out: Buffer[] = [];
  let offset = 0;
  const decoder = new RespDecoder((frame) => {
    offset += frame.byteLength;
    const step = filter.push(frameToArgs(frame.value), offset);
    if (step.kind === 'forward') for (const command of step.commands) out.push(encodeCommand(command.args));
  });
  for (let at = 0; at < input.length; at += chunk) decoder.push(input.subarray(at, at + chunk));
  return Buffer.concat(out);
}

const binaryKey = Buffer.from([0x6b, 0x00, 0x0d, 0x0a, 0xff]);
const binaryValue = Buffer.from([0x24, 0x2a, 0x0d, 0x0a, 0x00, 0xfe]);

describe('filter on the wire', () => {
  const stream = Buffer.concat([
    encodeCommand(['SELECT', '0']),
    encodeCommand([Buffer.from('SET'), binaryKey, binaryValue]),
    encodeCommand(['SET', 'other', 'x']),
    encodeCommand(['MULTI']),
    encodeCommand(['RPUSH', 'other:list', 'a']),
    encodeCommand([Buffer.from('RPUSH'), Buffer.concat([binaryKey, Buffer.from('list')]), binaryValue]),
    encodeCommand(['EXEC']),
    encodeCommand([Buffer.from('DEL'), binaryKey, Buffer.from('other')]),
    encodeCommand(['MULTI']),
    encodeCommand(['INCR', 'other:n']),
    encodeCommand(['EXEC']),
  ]);
  const expected = Buffer.concat([
    encodeCommand([Buffer.from('SET'), binaryKey, binaryValue]),
    encodeCommand(['MULTI']),
    encodeCommand([Buffer.from('RPUSH'), Buffer.concat([binaryKey, Buffer.from('list')]), binaryValue]),
    encodeCommand(['EXEC']),
    encodeCommand([Buffer.from('DEL'), binaryKey]),
  ]);
  const spec: SyncFilterSpec = { keys: { prefixes: ['k'] }, multiKeyPolicy: 'split' };

  for (const chunk of [stream.length, 1, 7]) {
    it(`keeps kept commands byte-exact, splits DEL, drops an empty transaction (chunks of ${chunk})`, () => {
      expect(through(spec, stream, chunk).equals(expected)).toBe(true);
    });
  }

  it('a dbMap SELECT is the only byte the filter adds', () => {
    const input = Buffer.concat([encodeCommand(['SELECT', '3']), encodeCommand(['SET', 'a', 'b'])]);
    expect(through({ dbMap: { '3': 7 } }, input, 5).toString('latin1')).toBe(
      '*2\r\n$6\r\nSELECT\r\n$1\r\n7\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n',
    );
  });
});
