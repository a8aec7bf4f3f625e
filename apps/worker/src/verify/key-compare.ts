import type { DifferenceKind, KeySummary } from '@shardbridge/plan';
import { comparableType, compareContent, type KeySide } from './content-compare.js';
import { text } from './db-client.js';

export interface KeyCompareOptions {
  /** largest accepted difference of the two remaining TTLs, in ms */
  ttlToleranceMs: number;
  /** keys the source estimates larger than this are never DUMPed: compared by windows */
  bigKeyBytes: number;
  /** both sides run the same `redis_version`: equal DUMP payloads prove equal values */
  sameVersion: boolean;
}

/** How one key differs; null when both sides agree (or neither holds it any more). */
export interface KeyVerdict {
  kind: DifferenceKind;
  source: KeySummary;
  target: KeySummary;
  detail?: string;
}

/**
 * Compares one key on both sides: existence and type, then the value, then the TTL (one verdict per key, in that
 * order of precedence). The value: equal DUMP payloads when both sides run the same version and the key is small;
 * otherwise, and whenever the payloads differ (DUMP embeds the encoding, so a listpack and a hashtable holding the
 * same fields differ byte-wise), the content itself (see compareContent).
 */
export async function compareKey(
  source: KeySide,
  target: KeySide,
  key: Buffer,
  options: KeyCompareOptions,
): Promise<KeyVerdict | null> {
  const [left, right] = await Promise.all([head(source, key), head(target, key)]);
  if (left.type === 'none' && right.type === 'none') return null;
  if (left.type === 'none') return { kind: 'extra', source: left, target: right };
  if (right.type === 'none') return { kind: 'missing', source: left, target: right };
  if (left.type !== right.type) return { kind: 'type', source: left, target: right };
  const value = await compareValue(source, target, key, left.type, options);
  if (value) {
    left.length = value.sourceLength;
    right.length = value.targetLength;
    if (!value.equal) return { kind: 'value', source: left, target: right, detail: value.detail };
  }
  if (!ttlAgrees(left.ttlMs, right.ttlMs, options.ttlToleranceMs)) {
    return {
      kind: 'ttl',
      source: left,
      target: right,
      detail: `remaining TTL ${left.ttlMs} ms vs ${right.ttlMs} ms (tolerance ${options.ttlToleranceMs} ms)`,
    };
  }
  return null;
}

/** -1 (no expiry) only matches -1; two TTLs match within the tolerance. */
export function ttlAgrees(source: number, target: number, toleranceMs: number): boolean {
  if (source < 0 || target < 0) return source === target;
  return Math.abs(source - target) <= toleranceMs;
}

async function head(side: KeySide, key: Buffer): Promise<KeySummary> {
  const [type, ttl] = await Promise.all([
    side.node.call(side.db, 'TYPE', key),
    side.node.call(side.db, 'PTTL', key),
  ]);
  return { type: text(type), ttlMs: Number(ttl) };
}

/** null when the value was proven equal by DUMP (lengths unknown). */
async function compareValue(
  source: KeySide,
  target: KeySide,
  key: Buffer,
  type: string,
  options: KeyCompareOptions,
): Promise<{ equal: boolean; detail?: string; sourceLength: number; targetLength: number } | null> {
  const estimatedBytes = await memoryUsage(source, key);
  const big = estimatedBytes > options.bigKeyBytes;
  if ((options.sameVersion && !big) || !comparableType(type)) {
    const [left, right] = (await Promise.all([
      source.node.call(source.db, 'DUMP', key),
      target.node.call(target.db, 'DUMP', key),
    ])) as [Buffer | null, Buffer | null];
    if (left && right && withoutTrailer(left).equals(withoutTrailer(right))) return null;
    if (!comparableType(type)) {
      return {
        equal: false,
        detail: `DUMP payloads of the ${type} differ`,
        sourceLength: -1,
        targetLength: -1,
      };
    }
  }
  return compareContent(source, target, key, type, { estimatedBytes });
}

/**
 * MEMORY USAGE (sampled, cheap) of the key on the source; 0 when refused (an ACL without MEMORY, a managed
 * service), which treats every key as small.
 */
async function memoryUsage(side: KeySide, key: Buffer): Promise<number> {
  try {
    return Number(await side.node.call(side.db, 'MEMORY', 'USAGE', key)) || 0;
  } catch {
    return 0;
  }
}

/** A DUMP payload ends with the RDB version (2 bytes) and a CRC64 (8): equal values from equal versions match before it. */
function withoutTrailer(payload: Buffer): Buffer {
  return payload.subarray(0, Math.max(0, payload.length - 10));
}
