import { RespNotACommandError } from './errors.js';
import type { RespValue } from './types.js';

/**
 * The arguments of a command frame, as a replication stream carries them: a non-empty array of non-null bulk
 * strings. Returns the decoder's Buffers (no copy). Throws RespNotACommandError for any other shape.
 */
export function frameToArgs(value: RespValue): Buffer[] {
  if (value.kind !== 'array' || value.value === null || value.value.length === 0) {
    throw new RespNotACommandError(`expected a non-empty array of bulk strings, got ${describe(value)}`);
  }
  const items = value.value;
  const args = new Array<Buffer>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.kind !== 'bulk' || item.value === null) {
      throw new RespNotACommandError(`command argument ${i} is ${describe(item)}, not a bulk string`);
    }
    args[i] = item.value;
  }
  return args;
}

function describe(value: RespValue): string {
  if (value.kind === 'array')
    return value.value === null ? 'a null array' : `an array of ${value.value.length}`;
  if (value.kind === 'bulk' && value.value === null) return 'a null bulk string';
  return `a ${value.kind}`;
}
