import type { Logger } from 'pino';
import {
  formatHostPort,
  NatMapper,
  parseHostPort,
  resolveSecret as resolvePlanSecret,
  resolveTls,
  type HostPort,
  type ShardJobData,
} from '@shardbridge/plan';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ShardSyncOptions } from '../shard-sync.js';
import { SourceLocator } from '../source/source-locator.js';

/** Job data as the worker reads it (the failover fields `clusterSeeds`, `natMap`, `natRules`, `readFrom` are part of
 * the plan contract now; the alias stays for callers that imported it). */
export type WorkerShardJobData = ShardJobData;

/** Resolves a secret reference (`env:NAME`, `file:/path`) where the connection is made. */
export type SecretResolver = (reference: string | undefined, field: string) => string | undefined;

/** Job data that cannot describe a shard (a coordinator bug or a hand-edited job). */
export class ShardJobDataError extends Error {
  readonly code = 'JOB_DATA_INVALID';
  override name = 'ShardJobDataError';
}

export interface SyncOptionsFromJobContext {
  checkpoints: CheckpointStore;
  logger: Logger;
  /** @defaultValue the plan package's `resolveSecret` */
  resolveSecret?: SecretResolver;
  /** the shard's slots as re-planning last recorded them, for failover following (see SourceLocatorOptions) */
  currentSlots?: () => Promise<ReadonlyArray<readonly [number, number]> | null>;
}

/**
 * Builds a ShardSync's options from one job's data. Passwords are resolved here, on the worker, and live only in
 * the returned object (never in the job, its progress or its errors).
 */
export function syncOptionsFromJob(
  data: WorkerShardJobData,
  context: SyncOptionsFromJobContext,
): Omit<ShardSyncOptions, 'onProgress' | 'progressIntervalMs'> {
  const resolve = context.resolveSecret ?? resolvePlanSecret;
  const source = endpoint(data.reachable, 'reachable');
  const target = data.target;
  const natMap: Record<string, HostPort> | undefined = target.natMap
    ? Object.fromEntries(
        Object.entries(target.natMap).map(([announced, reachable]) => [
          announced,
          endpoint(reachable, `target.natMap[${announced}]`),
        ]),
      )
    : undefined;
  const seeds = target.seeds.map((seed, index) => endpoint(seed, `target.seeds[${index}]`));
  if (seeds.length === 0) throw new ShardJobDataError('job data has no target seeds');
  const sourcePassword = resolve(data.source.password, 'source.password');
  return {
    shardId: data.shardId,
    source: {
      host: source.host,
      port: source.port,
      label: `shard ${data.shardId} (${data.announced} via ${data.reachable})`,
      username: data.source.username,
      password: sourcePassword,
      tls: tlsOptions(data.source.tls, 'source.tls', resolve),
    },
    sourceNode: { nodeId: data.nodeId, announced: data.announced },
    locator: data.nodeId === null ? undefined : failoverLocator(data, sourcePassword, context.currentSlots),
    target: {
      type: target.type,
      seeds,
      username: target.username,
      password: resolve(target.password, 'target.password'),
      tls: tlsOptions(target.tls, 'target.tls', resolve),
      natMap,
      mapAddress: targetRules(target.natRules),
      // The writer's messages say "target <label>" themselves.
      label: formatHostPort(seeds[0]),
    },
    checkpoints: context.checkpoints,
    logger: context.logger,
  };
}

/** A cluster shard follows failovers of its source: find its slots' master through the seeds and the natMap. */
function failoverLocator(
  data: WorkerShardJobData,
  password: string | undefined,
  currentSlots: SyncOptionsFromJobContext['currentSlots'],
): SourceLocator {
  let natMapper: NatMapper;
  try {
    natMapper = new NatMapper(data.natMap ?? {}, { natRules: data.natRules });
  } catch (error) {
    throw new ShardJobDataError(`job data field natMap: ${(error as Error).message}`);
  }
  return new SourceLocator({
    slots: data.slots,
    seeds: (data.clusterSeeds ?? []).map((seed, index) => endpoint(seed, `clusterSeeds[${index}]`)),
    natMapper,
    link: { username: data.source.username, password, tls: Boolean(data.source.tls), timeoutMs: 5000 },
    readFrom: data.readFrom,
    currentSlots,
  });
}

/** The target's natRules as the writer's address mapper (natMap entries are looked up first, by the writer). */
function targetRules(
  rules: ShardJobData['target']['natRules'],
): ((announced: HostPort) => HostPort) | undefined {
  if (!rules?.length) return undefined;
  let mapper: NatMapper;
  try {
    mapper = new NatMapper({}, { natRules: rules });
  } catch (error) {
    throw new ShardJobDataError(`job data field target.natRules: ${(error as Error).message}`);
  }
  return (announced) => mapper.map(announced).reachable;
}

/** TLS connect options from the plan's TLS setting (CA/cert from `file:`, key from a secret reference), or none. */
function tlsOptions(spec: ShardJobData['source']['tls'], field: string, resolve: SecretResolver) {
  const resolved = resolveTls(spec, field, resolve);
  return resolved.enabled ? resolved.options : undefined;
}

function endpoint(text: string, field: string): HostPort {
  const parsed = parseHostPort(text);
  if (!parsed)
    throw new ShardJobDataError(`job data field ${field} is not host:port: ${JSON.stringify(text)}`);
  return parsed;
}
