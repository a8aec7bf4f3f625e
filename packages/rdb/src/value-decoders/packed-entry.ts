import { parseRedisDouble } from '../byte-reader.js';

/**
 * One element of a ziplist/listpack/intset: the string bytes, or an integer. Integers outside the JS
 * safe range are returned as their decimal text (a Buffer), so every value stays exact.
 */
export type PackedEntry = Buffer | number;

export function entryToBuffer(e: PackedEntry): Buffer {
  return typeof e === 'number' ? Buffer.from(String(e)) : e;
}

/** Decimal text of a 64-bit integer as a PackedEntry (number when exactly representable). */
export function int64Entry(v: bigint): PackedEntry {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : Buffer.from(v.toString());
}

/** Score stored as a packed element (ziplist/listpack zsets); undefined when it is not a number. */
export function entryToScore(e: PackedEntry): number | undefined {
  return typeof e === 'number' ? e : parseRedisDouble(e.toString('latin1'));
}

/** Non-negative integer stored as a packed element (stream counters, hash field TTLs). */
export function entryToInt(e: PackedEntry): number | undefined {
  if (typeof e === 'number') return e;
  const text = e.toString('latin1');
  return /^-?\d+$/.test(text) ? Number(text) : undefined;
}
