import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { TargetWriterOptions } from '@shardbridge/target';
import {
  formatHostPort,
  NatMapper,
  parseHostPort,
  preflightTarget,
  resolveSecret as resolvePlanSecret,
  resolveTls,
  type HostPort,
  type ShardJobData,
} from '@shardbridge/plan';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ShardSyncOptions, TargetKeyspaceReader } from '../shard-sync.js';
import { appliedMarkerKey } from '../exactly-once/applied-marker.js';
import { SyncModeUnsupportedError, TargetKeyspaceUnreadableError } from '../sync-errors.js';
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
  /**
   * An earlier run of this shard may have written into the target (a job handed back or retried): keys there may
   * be its own, so `fail-if-not-empty` is not judged again (the plan was checked when it was created).
   * @defaultValue false
   */
  targetWrittenBefore?: boolean;
  /** the shard's slots as re-planning last recorded them, for failover following (see SourceLocatorOptions) */
  currentSlots?: () => Promise<ReadonlyArray<readonly [number, number]> | null>;
  /**
   * Exactly-once: this owner's fence epoch for the shard (a worker takes a new, higher one each time it takes the
   * job); the target refuses batches of an older owner (see TargetWriterOptions.fenceEpoch). @defaultValue none
   */
  fenceEpoch?: number;
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
  // scan and rdb are engines of their own (see shardEngineForJob); a job for one must not run as a replica.
  const mode = data.mode ?? 'sync';
  if (mode !== 'sync' && mode !== 'full') throw new SyncModeUnsupportedError(mode);
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
  const planTls = tlsOptions(data.source.tls, 'source.tls', resolve);
  const sourceTls = withAnnouncedName(planTls, data.announced);
  return {
    shardId: data.shardId,
    source: {
      host: source.host,
      port: source.port,
      label: `shard ${data.shardId} (${data.announced} via ${data.reachable})`,
      username: data.source.username,
      password: sourcePassword,
      tls: sourceTls,
    },
    sourceNode: { nodeId: data.nodeId, announced: data.announced },
    // The plan's own TLS settings: the locator verifies each node against that node's announced name.
    locator:
      data.nodeId === null ? undefined : failoverLocator(data, sourcePassword, planTls, context.currentSlots),
    target: {
      type: target.type,
      seeds,
      username: target.username,
      password: resolve(target.password, 'target.password'),
      tls: tlsOptions(target.tls, 'target.tls', resolve),
      natMap,
      ...(target.crossSlot ? { crossSlot: target.crossSlot } : {}),
      ...(target.exactlyOnce ? { appliedMarkerKey: appliedMarkerKey(data.shardId) } : {}),
      ...(target.exactlyOnce && context.fenceEpoch !== undefined ? { fenceEpoch: context.fenceEpoch } : {}),
      ...windowOptions(target.window),
      mapAddress: targetRules(target.natRules),
      // The writer's messages say "target <label>" themselves.
      label: formatHostPort(seeds[0]),
    },
    rewrite: target.rewrite ?? 'auto',
    bigKeyThreshold: target.bigKeyThreshold,
    checkpoints: context.checkpoints,
    logger: context.logger,
    mode,
    targetMode: data.targetMode ?? 'replace',
    filter: data.filter,
    wholeKeyspace: coversEverySlot(data.slots),
    targetKeyspace:
      data.targetMode === 'fail-if-not-empty' && !context.targetWrittenBefore
        ? targetKeyspace(data, resolve)
        : undefined,
  };
}

function coversEverySlot(slots: ReadonlyArray<[number, number]>): boolean {
  let next = 0;
  for (const [first, last] of [...slots].sort((a, b) => a[0] - b[0])) {
    if (first > next) return false;
    next = Math.max(next, last + 1);
  }
  return next >= 16384;
}

/** Reads every target node's non-empty dbs (the target half of a preflight); an unreachable node fails the check. */
function targetKeyspace(data: WorkerShardJobData, resolve: SecretResolver): TargetKeyspaceReader {
  const { type, seeds, username, password, tls, natMap, natRules } = data.target;
  return async () => {
    const report = await preflightTarget(
      { type, seeds, username, password, tls, natMap, natRules, rewrite: 'auto' },
      { resolveSecret: resolve },
    );
    const unknown = report.nodes.find((node) => !node.nonEmptyDbs);
    const problem = report.problems[0];
    if (unknown || (report.nodes.length === 0 && problem)) {
      throw new TargetKeyspaceUnreadableError(
        `targetMode "fail-if-not-empty": could not read the target's keyspace (${problem?.message ?? unknown?.error}); ` +
          `${problem?.fix ?? 'check the target'}`,
      );
    }
    return report.nodes.map((node) => ({ address: node.announced, dbs: node.nonEmptyDbs ?? [] }));
  };
}

/**
 * A cluster shard follows failovers of its source: find its slots' master through the seeds and the natMap, with
 * the same credentials and TLS settings (CA, client certificate, servername) as the replication link.
 */
function failoverLocator(
  data: WorkerShardJobData,
  password: string | undefined,
  tls: ConnectionOptions | undefined,
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
    link: {
      username: data.source.username,
      password,
      tls: tls !== undefined,
      ...(tls ? { tlsOptions: tls } : {}),
      timeoutMs: 5000,
    },
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

/**
 * The certificate of a node behind NAT is issued for the name it announces, not for the address dialled: unless
 * the plan gives a servername, verify against the announced host when it is a name (as discovery does).
 */
function withAnnouncedName(
  tls: ConnectionOptions | undefined,
  announced: string,
): ConnectionOptions | undefined {
  if (!tls || tls.servername !== undefined) return tls;
  const host = parseHostPort(announced)?.host;
  return host && isIP(host) === 0 ? { ...tls, servername: host } : tls;
}

function endpoint(text: string, field: string): HostPort {
  const parsed = parseHostPort(text);
  if (!parsed)
    throw new ShardJobDataError(`job data field ${field} is not host:port: ${JSON.stringify(text)}`);
  return parsed;
}

/** The plan's `target.window` as target writer options (unset fields keep the writer's defaults). */
function windowOptions(window: WorkerShardJobData['target']['window']): Partial<TargetWriterOptions> {
  if (!window) return {};
  return {
    ...(window.maxCommands === undefined ? {} : { maxInFlight: window.maxCommands }),
    ...(window.maxBytes === undefined ? {} : { maxInFlightBytes: window.maxBytes }),
    ...(window.adaptive === undefined ? {} : { adaptiveWindow: window.adaptive }),
  };
}
