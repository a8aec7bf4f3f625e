import { keySlot } from '../key-slot.js';

const PREFIX = '__shardbridge_tmp:';

/**
 * A scratch key in the same hash slot as `key` (so RENAME works on a cluster target), unique per `token`:
 * `__shardbridge_tmp:<token>:{<tag>}` where `<tag>` is what the slot of `key` is computed from (its hash tag,
 * or the whole key). Null for the rare key whose bytes defeat this (e.g. a `}` before its first `{`): the
 * caller then writes the key in place.
 */
export function tempKeyFor(key: Buffer, token: string): Buffer | null {
  const open = key.indexOf(0x7b);
  const close = open === -1 ? -1 : key.indexOf(0x7d, open + 1);
  const hashed = close > open + 1 ? key.subarray(open + 1, close) : key;
  if (hashed.includes(0x7d) || hashed.length === 0) return null;
  const temp = Buffer.concat([Buffer.from(`${PREFIX}${token}:{`), hashed, Buffer.from('}')]);
  return keySlot(temp) === keySlot(key) ? temp : null;
}
