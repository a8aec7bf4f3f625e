/**
 * redis.conf directives as `name -> value`. A string is one argument; an array is the arguments of one directive
 * (e.g. `{ user: ['alice', 'on', '>pw', '~*', '+@all'] }`). Use `''` for an empty argument (`save ''`).
 */
export type RedisConfig = Record<string, string | string[]>;

/**
 * Turns directives into redis-server command-line arguments. redis-server quotes every argument that follows an
 * `--name` separately, so multi-argument directives must be split into separate argv entries, never joined.
 */
export function configToArgs(config: RedisConfig): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(config)) {
    args.push(`--${name}`);
    if (Array.isArray(value)) args.push(...value);
    else args.push(value);
  }
  return args;
}

/** Whether a directive map turns on cluster mode (which also needs the bus port, `port + 10000`). */
export function isClusterConfig(config: RedisConfig | undefined): boolean {
  const value = config?.['cluster-enabled'];
  return typeof value === 'string' && value.toLowerCase() === 'yes';
}
