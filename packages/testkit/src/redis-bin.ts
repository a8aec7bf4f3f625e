/**
 * What a server is for in a test. The version matrix (`npm run test:matrix`) runs a suite with different binaries
 * for the two sides, e.g. a newer source replicating into an older target.
 */
export type RedisRole = 'source' | 'target';

/** Environment variables naming the redis-server binary of one role (they win over `REDIS_SERVER_BIN`). */
export const ROLE_BIN_ENV: Record<RedisRole, string> = {
  source: 'SHARDBRIDGE_SOURCE_REDIS_BIN',
  target: 'SHARDBRIDGE_TARGET_REDIS_BIN',
};

/**
 * The binary asked for, if any: the explicit `bin`, else the role's variable, else `REDIS_SERVER_BIN`. Undefined
 * means "nothing asked for": `redis-server` on PATH, or a container where the testkit uses one.
 */
export function requestedRedisBin(options: { bin?: string; role?: RedisRole }): string | undefined {
  const roleBin = options.role ? process.env[ROLE_BIN_ENV[options.role]] : undefined;
  return options.bin ?? (roleBin || undefined) ?? (process.env.REDIS_SERVER_BIN || undefined);
}
