import { Redis } from 'ioredis';
import { CommandKeys } from './command-keys.js';
import { TargetConnectError, TargetError } from './errors.js';
import { RedisLink } from './redis-link.js';
import { SLOT_COUNT } from './key-slot.js';
import type { HostPort, TargetWriterOptions } from './types.js';

/** What a cluster target looks like from one of its nodes. */
export interface ClusterTopology {
  /** the seed that answered (reachable address) */
  seed: HostPort;
  /** announced `host:port` of the master serving each slot; '' = no master */
  slotOwners: string[];
  /** announced `host:port` of every master serving slots */
  masters: string[];
  commandKeys: CommandKeys;
}

/**
 * Asks the first seed that accepts our credentials for `CLUSTER SLOTS` (the announced master of every slot)
 * and `COMMAND` (key positions, used to route replicated commands). The seed is probed with a raw link first so
 * connect/auth failures get precise errors.
 * @throws TargetConnectError | TargetAuthError
 */
export async function discoverTopology(
  options: TargetWriterOptions,
  label: string,
  connectTimeoutMs: number,
): Promise<ClusterTopology> {
  let lastError: TargetError | null = null;
  for (const seed of options.seeds) {
    const seedLabel = `${label} seed ${seed.host}:${seed.port}`;
    try {
      const endpoint = { ...seed, ...credentials(options), connectTimeoutMs, label: seedLabel };
      const probe = await RedisLink.open(endpoint, null);
      await probe.close();
    } catch (err) {
      if (!(err instanceof TargetError) || err.code !== 'TARGET_CONNECT_FAILED') throw err;
      lastError = err;
      continue;
    }
    return query(seed, seedLabel, options, connectTimeoutMs);
  }
  throw (
    lastError ?? new TargetConnectError(label, `cluster target ${label}: no seed address given in the plan`)
  );
}

function credentials(options: TargetWriterOptions) {
  return { tls: options.tls, username: options.username, password: options.password };
}

async function query(
  seed: HostPort,
  seedLabel: string,
  options: TargetWriterOptions,
  connectTimeoutMs: number,
): Promise<ClusterTopology> {
  const redis = new Redis({
    host: seed.host,
    port: seed.port,
    ...credentials(options),
    connectTimeout: connectTimeoutMs,
    commandTimeout: connectTimeoutMs,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined); // reported through the commands below
  try {
    await redis.connect();
    let slots: unknown;
    try {
      slots = await redis.call('CLUSTER', 'SLOTS');
    } catch (err) {
      const message = (err as Error).message;
      const hint = /cluster support disabled/i.test(message)
        ? 'it is not a cluster: set the target type to "standalone"'
        : 'check that it is a healthy cluster node and the ACL user may run CLUSTER SLOTS';
      throw new TargetConnectError(
        seedLabel,
        `target ${seedLabel} refused CLUSTER SLOTS (${message}): ${hint}`,
      );
    }
    // The key table is an optimisation with a built-in fallback: a user without COMMAND still works.
    const commandKeys = await redis.call('COMMAND').then(
      (reply) => CommandKeys.fromCommandReply(reply),
      () => CommandKeys.builtIn(),
    );
    return { seed, ...slotOwners(slots, seed), commandKeys };
  } catch (err) {
    if (err instanceof TargetError) throw err;
    throw new TargetConnectError(
      seedLabel,
      `cannot query cluster target ${seedLabel}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    redis.disconnect();
  }
}

/** `CLUSTER SLOTS`: `[[start, end, [host, port, id, ...], replicas...], ...]`; the first node is the master. */
function slotOwners(reply: unknown, seed: HostPort): { slotOwners: string[]; masters: string[] } {
  const owners: string[] = new Array<string>(SLOT_COUNT).fill('');
  const masters = new Set<string>();
  if (Array.isArray(reply)) {
    for (const range of reply) {
      if (!Array.isArray(range) || !Array.isArray(range[2])) continue;
      const [start, end, [host, port]] = range as [number, number, [string, number]];
      // An empty/unknown endpoint means "the address you reached me on".
      const key = `${host && host !== '?' ? host : seed.host}:${port}`;
      masters.add(key);
      for (let slot = Number(start); slot <= Number(end); slot++) owners[slot] = key;
    }
  }
  return { slotOwners: owners, masters: [...masters] };
}
