import { RespEncodeError } from './errors.js';
import type { RespValue } from './types.js';

const CRLF = Buffer.from('\r\n');

function toBuffer(arg: Buffer | string | number): Buffer {
  if (Buffer.isBuffer(arg)) return arg;
  return Buffer.from(typeof arg === 'number' ? String(arg) : arg, 'utf8');
}

/**
 * A command as a RESP2 array of bulk strings, the only form a Redis server is guaranteed to accept.
 * Strings are written as UTF-8, numbers in decimal. One allocation for the whole command.
 */
export function encodeCommand(args: ReadonlyArray<Buffer | string | number>): Buffer {
  const parts = args.map(toBuffer);
  const headers = parts.map((p) => `$${p.length}\r\n`);
  const head = `*${parts.length}\r\n`;
  let size = head.length;
  for (let i = 0; i < parts.length; i++) size += headers[i].length + parts[i].length + 2;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0, 'latin1');
  for (let i = 0; i < parts.length; i++) {
    at += out.write(headers[i], at, 'latin1');
    at += parts[i].copy(out, at);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return out;
}

function line(type: string, text: string): Buffer {
  if (/[\r\n]/.test(text)) throw new RespEncodeError(`a ${type} line cannot contain CR or LF`);
  return Buffer.from(`${type}${text}\r\n`, 'latin1');
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

function collect(value: RespValue, out: Buffer[]): void {
  switch (value.kind) {
    case 'simple':
      out.push(line('+', value.value));
      return;
    case 'error':
      out.push(line('-', value.value));
      return;
    case 'integer':
      out.push(line(':', value.value.toString()));
      return;
    case 'bulk':
      if (value.value === null) {
        out.push(line('$', '-1'));
      } else {
        out.push(line('$', String(value.value.length)), value.value, CRLF);
      }
      return;
    case 'array':
      if (value.value === null) {
        out.push(line('*', '-1'));
        return;
      }
      out.push(line('*', String(value.value.length)));
      for (const item of value.value) collect(item, out);
      return;
    case 'null':
      out.push(line('_', ''));
      return;
    case 'boolean':
      out.push(line('#', value.value ? 't' : 'f'));
      return;
    case 'double':
      out.push(line(',', formatDouble(value.value)));
      return;
    case 'bignum':
      out.push(line('(', value.value));
      return;
    case 'verbatim':
      if (Buffer.byteLength(value.format, 'latin1') !== 3) {
        throw new RespEncodeError('a verbatim string format must be exactly 3 bytes');
      }
      out.push(
        line('=', String(value.value.length + 4)),
        Buffer.from(`${value.format}:`, 'latin1'),
        value.value,
        CRLF,
      );
      return;
    case 'set':
    case 'push':
      out.push(line(value.kind === 'set' ? '~' : '>', String(value.value.length)));
      for (const item of value.value) collect(item, out);
      return;
    case 'map':
    case 'attribute':
      out.push(line(value.kind === 'map' ? '%' : '|', String(value.value.length)));
      for (const [k, v] of value.value) {
        collect(k, out);
        collect(v, out);
      }
      return;
  }
}

/** Any value in its RESP2/RESP3 wire form (RESP3 types use their RESP3 type bytes). */
export function encodeValue(value: RespValue): Buffer {
  const out: Buffer[] = [];
  collect(value, out);
  return out.length === 1 ? out[0] : Buffer.concat(out);
}
