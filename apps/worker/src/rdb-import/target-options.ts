import {
  formatHostPort,
  NatMapper,
  parseHostPort,
  resolveSecret as resolvePlanSecret,
  resolveTls,
  type HostPort,
  type TargetSpec,
} from '@shardbridge/plan';
import type { TargetWriterOptions } from '@shardbridge/target';
import type { SecretResolver } from '../queue/sync-options-from-job.js';

/**
 * The writer options of a plan's target, with the password reference and TLS files resolved here, where the
 * connection is made. Mirrors what a worker builds from shard job data (seeds, natMap, natRules, TLS).
 */
export function targetWriterOptions(
  spec: TargetSpec,
  resolve: SecretResolver = resolvePlanSecret,
): TargetWriterOptions {
  const endpoint = (text: string): HostPort => parseHostPort(text)!;
  const seeds = spec.seeds.map(endpoint);
  const natMap = spec.natMap
    ? Object.fromEntries(Object.entries(spec.natMap).map(([announced, to]) => [announced, endpoint(to)]))
    : undefined;
  const rules = spec.natRules?.length ? new NatMapper({}, { natRules: spec.natRules }) : null;
  const tls = resolveTls(spec.tls, 'target.tls', resolve);
  return {
    type: spec.type,
    seeds,
    username: spec.username,
    password: resolve(spec.password, 'target.password'),
    tls: tls.enabled ? tls.options : undefined,
    natMap,
    mapAddress: rules ? (announced) => rules.map(announced).reachable : undefined,
    label: formatHostPort(seeds[0]),
  };
}
