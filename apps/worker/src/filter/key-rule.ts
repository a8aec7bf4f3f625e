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
    for (const prefix of prefixes) {
      if (key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) {
        matches = true;
        break;
      }
    }
    if (!matches && regex) matches = regex.test(key.toString('utf8'));
    return matches === keepMatching;
  };
}
