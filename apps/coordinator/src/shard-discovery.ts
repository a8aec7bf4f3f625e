import { discoverSourceShards, type DiscoveredShard, type SourceSpec } from '@shardbridge/plan';

export type { DiscoveredShard };

/** Signature of `discoverSourceShards` as the coordinator calls it; injectable so tests can pass their own. */
export type DiscoverShards = (
  source: SourceSpec,
  options: { connectTimeoutMs: number },
) => Promise<DiscoveredShard[]>;

export const defaultDiscover: DiscoverShards = (source, options) => discoverSourceShards(source, options);

/**
 * Errors of discovery (`DISCOVERY_*`) and of resolving the source password reference on this host
 * (`PLAN_SECRET_UNRESOLVED`, `PLAN_SECRET_NOT_ALLOWED`): the plan is well-formed but cannot be planned here. Duck-typed on `code` so an
 * injected discover function need not share the error classes.
 */
export function isUnplannable(
  error: unknown,
): error is Error & { code: string; details?: Record<string, unknown> } {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('DISCOVERY_') || code.startsWith('PLAN_SECRET_'));
}
