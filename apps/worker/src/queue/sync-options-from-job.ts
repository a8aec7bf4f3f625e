import type { Logger } from 'pino';
import {
  formatHostPort,
  parseHostPort,
  resolveSecret as resolvePlanSecret,
  type HostPort,
  type ShardJobData,
} from '@shardbridge/plan';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ShardSyncOptions } from '../shard-sync.js';

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
}

/**
 * Builds a ShardSync's options from one job's data. Passwords are resolved here, on the worker, and live only in
 * the returned object (never in the job, its progress or its errors).
 */
export function syncOptionsFromJob(
  data: ShardJobData,
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
  return {
    shardId: data.shardId,
    source: {
      host: source.host,
      port: source.port,
      label: `shard ${data.shardId} (${data.announced} via ${data.reachable})`,
      username: data.source.username,
      password: resolve(data.source.password, 'source.password'),
      tls: data.source.tls ? {} : undefined,
    },
    target: {
      type: target.type,
      seeds,
      username: target.username,
      password: resolve(target.password, 'target.password'),
      tls: target.tls ? {} : undefined,
      natMap,
      // The writer's messages say "target <label>" themselves.
      label: formatHostPort(seeds[0]),
    },
    checkpoints: context.checkpoints,
    logger: context.logger,
  };
}

function endpoint(text: string, field: string): HostPort {
  const parsed = parseHostPort(text);
  if (!parsed)
    throw new ShardJobDataError(`job data field ${field} is not host:port: ${JSON.stringify(text)}`);
  return parsed;
}
