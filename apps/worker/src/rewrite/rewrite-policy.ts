import type { RewritePolicy } from '@shardbridge/plan';

/**
 * Whether a full sync rebuilds keys with ordinary commands (KeyRewrite) instead of RESTORE:
 * - `auto`: only when the target's RESTORE cannot load the source's payload version (an older target);
 * - `always`: every key (e.g. to normalise encodings, or to test the path);
 * - `never`: always RESTORE; an older target then fails the shard with its RESTORE error.
 */

export type { RewritePolicy };

export function shouldRewrite(
  policy: RewritePolicy,
  payloadRdbVersion: number,
  targetRdbVersion: number | null,
): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return targetRdbVersion !== null && payloadRdbVersion > targetRdbVersion;
}
