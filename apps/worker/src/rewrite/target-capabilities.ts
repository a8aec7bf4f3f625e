import { openNode } from '@shardbridge/plan';
import type { TargetWriterOptions } from '@shardbridge/target';

/** What the target's Redis can load and run, as far as a full sync cares. */
export interface TargetCapabilities {
  /** `redis_version` of the first target seed that answered */
  version: string;
  /** newest RDB (and DUMP payload) version its RESTORE accepts */
  rdbVersion: number;
  /** HPEXPIREAT and friends (Redis 7.4+) */
  hashFieldTtl: boolean;
  /** XSETID ENTRIESADDED/MAXDELETEDID, XGROUP CREATE ... ENTRIESREAD (Redis 7.0+) */
  streamMetadata: boolean;
}

/**
 * The RDB version each Redis release writes (and the newest its RESTORE accepts): facts of Redis's rdb.h per
 * release. Valkey 7.2/8.x report redis_version 7.2.x and use RDB 11.
 */
export function rdbVersionOf(redisVersion: string): number {
  const [major = 0, minor = 0] = redisVersion.split('.').map(Number);
  const at = major * 100 + minor;
  if (at >= 704) return 12;
  if (at >= 702) return 11;
  if (at >= 700) return 10;
  if (at >= 500) return 9;
  if (at >= 400) return 8;
  if (at >= 300) return 7;
  return 6;
}

export function capabilitiesOf(redisVersion: string): TargetCapabilities {
  const [major = 0, minor = 0] = redisVersion.split('.').map(Number);
  const at = major * 100 + minor;
  return {
    version: redisVersion,
    rdbVersion: rdbVersionOf(redisVersion),
    hashFieldTtl: at >= 704,
    streamMetadata: at >= 700,
  };
}

/**
 * Asks the target's first answering seed for `INFO server`. Null when no seed answers or INFO is refused: the
 * caller then keeps RESTORE (whose own error names the problem).
 */
export async function probeTargetCapabilities(
  target: TargetWriterOptions,
): Promise<TargetCapabilities | null> {
  for (const seed of target.seeds) {
    try {
      const link = await openNode(seed, {
        username: target.username,
        password: target.password,
        tls: Boolean(target.tls),
        tlsOptions: target.tls,
        timeoutMs: target.connectTimeoutMs ?? 5000,
      });
      try {
        const version = /^redis_version:([^\r\n]+)/m.exec(String(await link.call('INFO', 'server')))?.[1];
        if (version) return capabilitiesOf(version);
      } finally {
        link.close();
      }
    } catch {
      // next seed
    }
  }
  return null;
}
