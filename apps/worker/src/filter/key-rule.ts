import type { SyncFilterSpec } from '@shardbridge/plan';

/**
 * Whether a key is synced under `filter.keys`. Prefixes compare bytes (a prefix is its UTF-8 bytes); the regex is
 * tested against the key decoded as UTF-8. Without key rules every key is synced.
 */
export function keyRule(spec: SyncFilterSpec['keys']): ((key: Buffer) => boolean) | null {
  if (!spec) return null;
  const prefixes = (spec.prefixes ?? []).map((prefix) => Buffer.from(prefix, 'utf8'));
  const regex = spec.regex === undefined ? null : new RegExp(spec.regex, 'u');
  const keepMatching = (spec.mode ?? 'allow') === 'allow';
  return (key) => {
    let matches = false;
    for (let i = 0; i < prefixes.length && !matches; i++) matches = startsWith(key, prefixes[i]);
    if (!matches && regex) matches = regex.test(key.toString('utf8'));
    return matches === keepMatching;
  };
}

/** A byte loop: prefixes are short, and Buffer.compare's call overhead dominates at this size. */
function startsWith(key: Buffer, prefix: Buffer): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
