import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  NatMapper,
  parseHostPort,
  resolveSecret as resolvePlanSecret,
  resolveTls,
  type HostPort,
  type ShardJobData,
} from '@shardbridge/plan';
import type { SecretResolver } from '../queue/sync-options-from-job.js';
import { MasterOffsets } from './master-offsets.js';
import type { MigrationBarrier } from './migration-barrier.js';
import { PlanMigrationBarrier, type PlanMigrationBarrierOptions } from './plan-migration-barrier.js';

export interface BarrierFromJobContext {
  /** the queue's Redis */
  redis: Redis;
  logger: Logger;
  /** @defaultValue the plan package's `resolveSecret` */
  resolveSecret?: SecretResolver;
  /** see PlanMigrationBarrierOptions.timeoutMs. @defaultValue 60000 */
  timeoutMs?: number;
  /** see PlanMigrationBarrierOptions.isSyncing */
  isSyncing?: PlanMigrationBarrierOptions['isSyncing'];
}

/**
 * The migration barrier of a cluster-source shard job, or undefined for a standalone source (no resharding there).
 * It reaches the other shards' masters with the job's source credentials, clusterSeeds and NAT map.
 */
export function migrationBarrierFromJob(
  data: ShardJobData,
  context: BarrierFromJobContext,
): MigrationBarrier | undefined {
  if (data.nodeId === null) return undefined;
  const resolve = context.resolveSecret ?? resolvePlanSecret;
  const tls = resolveTls(data.source.tls, 'source.tls', resolve);
  const offsets = new MasterOffsets({
    link: {
      username: data.source.username,
      password: resolve(data.source.password, 'source.password'),
      tls: tls.enabled,
      tlsOptions: tls.enabled ? tls.options : undefined,
      timeoutMs: 5000,
    },
    seeds: (data.clusterSeeds ?? []).flatMap((seed): HostPort[] => {
      const parsed = parseHostPort(seed);
      return parsed ? [parsed] : [];
    }),
    natMapper: new NatMapper(data.natMap ?? {}, { natRules: data.natRules }),
  });
  return new PlanMigrationBarrier({
    redis: context.redis,
    planId: data.planId,
    shardId: data.shardId,
    masterOffset: (shard) => offsets.of(shard),
    logger: context.logger,
    timeoutMs: context.timeoutMs,
    isSyncing: context.isSyncing,
  });
}
