import { openNode } from '@shardbridge/plan';
import { parseAppliedMarker, type AppliedMarker, type TargetWriterOptions } from '@shardbridge/target';

/** The key (db 0 of a standalone target) where exactly-once mode records how far a shard's stream got. */
export function appliedMarkerKey(shardId: string): string {
  return `shardbridge:applied:${shardId}`;
}

/**
 * Reads the applied marker from the target (see MarkedBatch in @shardbridge/target). Null when the target has
 * none; throws when the target cannot be asked (the shard then fails or retries like any target problem).
 */
export async function readAppliedMarker(
  target: TargetWriterOptions,
  key: string,
): Promise<AppliedMarker | null> {
  const seed = target.seeds[0];
  const link = await openNode(seed, {
    username: target.username,
    password: target.password,
    tls: Boolean(target.tls),
    tlsOptions: target.tls,
    timeoutMs: target.connectTimeoutMs ?? 5000,
  });
  try {
    await link.call('SELECT', '0');
    const value = await link.call('GET', key);
    return parseAppliedMarker(value === null ? null : String(value));
  } finally {
    link.close();
  }
}
