/**
 * RDB format version a server of `redisVersion` writes (the `REDIS00NN` header), for servers whose INFO has no
 * `rdb_version`: 2.6/2.8 → 6, 3.x → 7 (3.2 → 8), 4.x → 8, 5.x/6.x → 9, 7.0 → 10, 7.2 → 11, 7.4+ and 8.x → 12.
 * Null for a version it cannot read. Forks (Valkey, KeyDB) report their own scheme; trust INFO over this.
 */
export function rdbVersionFor(redisVersion: string): number | null {
  const match = /^(\d+)\.(\d+)/.exec(redisVersion);
  if (!match) return null;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major >= 8) return 12;
  if (major === 7) return minor >= 4 ? 12 : minor >= 2 ? 11 : 10;
  if (major === 5 || major === 6) return 9;
  if (major === 4) return 8;
  if (major === 3) return minor >= 2 ? 8 : 7;
  if (major === 2 && minor >= 6) return 6;
  return null;
}
