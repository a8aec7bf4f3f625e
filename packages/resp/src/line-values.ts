import { RespProtocolError } from './errors.js';

/*
 * Parsers for the text that sits between a type byte and its CRLF. Each takes the buffer, the line's body
 * [start, end) (CR excluded) and `base`, the stream offset of buf[0], so errors can name the exact bad byte.
 */

const MINUS = 0x2d;
const PLUS = 0x2b;
const DIGIT_0 = 0x30;

/**
 * A decimal length or count: digits, or exactly `-1` when `allowNull` (RESP2 null bulk/array).
 * Returns -1 for the null marker.
 */
export function parseLength(
  buf: Buffer,
  start: number,
  end: number,
  base: number,
  allowNull: boolean,
): number {
  if (start === end) throw new RespProtocolError('empty length', base + start);
  if (buf[start] === MINUS) {
    if (allowNull && end - start === 2 && buf[start + 1] === DIGIT_0 + 1) return -1;
    throw new RespProtocolError('negative length', base + start);
  }
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - DIGIT_0;
    if (d < 0 || d > 9) throw new RespProtocolError('invalid digit in length', base + i);
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER) throw new RespProtocolError('length out of range', base + start);
  }
  return n;
}

/** `:` payload: an optionally signed 64-bit decimal integer. */
export function parseInteger(buf: Buffer, start: number, end: number, base: number): bigint {
  checkSignedDigits(buf, start, end, base, 'integer');
  return BigInt(buf.toString('latin1', start, end));
}

/** `(` payload: an optionally signed decimal integer of any size, kept as text. */
export function parseBignum(buf: Buffer, start: number, end: number, base: number): string {
  checkSignedDigits(buf, start, end, base, 'big number');
  return buf.toString('latin1', start, end);
}

function checkSignedDigits(buf: Buffer, start: number, end: number, base: number, what: string): void {
  let i = start;
  if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) i++;
  if (i === end) throw new RespProtocolError(`empty ${what}`, base + i);
  for (; i < end; i++) {
    const d = buf[i] - DIGIT_0;
    if (d < 0 || d > 9) throw new RespProtocolError(`invalid digit in ${what}`, base + i);
  }
}

const DOUBLE_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `,` payload: a decimal/exponent number, `inf`, `-inf` or `nan` (RESP3). */
export function parseDouble(buf: Buffer, start: number, end: number, base: number): number {
  const text = buf.toString('latin1', start, end);
  switch (text.toLowerCase()) {
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
    case '-nan':
      return NaN;
  }
  if (!DOUBLE_TEXT.test(text)) throw new RespProtocolError('invalid double', base + start);
  return Number(text);
}

/** `#` payload: exactly `t` or `f`. */
export function parseBoolean(buf: Buffer, start: number, end: number, base: number): boolean {
  if (end - start === 1) {
    if (buf[start] === 0x74) return true;
    if (buf[start] === 0x66) return false;
  }
  throw new RespProtocolError('invalid boolean', base + start);
}
