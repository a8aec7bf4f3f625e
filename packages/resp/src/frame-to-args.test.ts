import { describe, expect, it } from 'vitest';
import { RespNotACommandError } from './errors.js';
import { frameToArgs } from './frame-to-args.js';

describe('frameToArgs', () => {
  it('returns the bulk strings of a command array', () => {
    const args = frameToArgs({
      kind: 'array',
      value: [
        { kind: 'bulk', value: Buffer.from('SET') },
        { kind: 'bulk', value: Buffer.from('k') },
      ],
    });
    expect(args.map((a) => a.toString())).toEqual(['SET', 'k']);
  });

  for (const [name, value] of [
    ['a simple string', { kind: 'simple', value: 'PING' }],
    ['a null array', { kind: 'array', value: null }],
    ['an empty array', { kind: 'array', value: [] }],
    ['a null bulk argument', { kind: 'array', value: [{ kind: 'bulk', value: null }] }],
    ['an integer argument', { kind: 'array', value: [{ kind: 'integer', value: 1n }] }],
  ] as const) {
    it(`rejects ${name} with code RESP_NOT_A_COMMAND`, () => {
      expect(() => frameToArgs(value)).toThrow(RespNotACommandError);
      expect(() => frameToArgs(value)).toThrow(
        expect.objectContaining({ code: 'RESP_NOT_A_COMMAND' }) as never,
      );
    });
  }
});
