import type { Logger } from 'pino';
import type { ShardJobData } from '@shardbridge/plan';
import type { TargetWriterOptions } from '@shardbridge/target';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { syncOptionsFromJob, type SecretResolver } from '../queue/sync-options-from-job.js';
import { openSourceClient } from '../scan/source-client.js';
import { DbClient } from './db-client.js';
import { TargetReader } from './target-reader.js';

/** Read-only links to one shard's source node and to the target, opened as the shard's sync opens them. */
export interface ShardReaders {
  source: DbClient;
  target: TargetReader;
  /** the target's connection settings (a verification lists the target's keys with them) */
  targetOptions: TargetWriterOptions;
  close(): void;
}

/** Nothing is synced by a reader: the checkpoint store the sync options ask for is never used. */
const NO_CHECKPOINTS = {} as CheckpointStore;

/**
 * Opens the shard's readers with the same NAT, TLS and secret mapping as its sync. `onLost` hears a link that
 * broke later (the caller decides when to look). `name` is the connection name the servers show.
 */
export async function openShardReaders(
  data: ShardJobData,
  options: { logger: Logger; resolveSecret?: SecretResolver; name: string },
  onLost: (error: Error) => void,
): Promise<ShardReaders> {
  const sync = syncOptionsFromJob(
    { ...data, mode: 'sync' },
    { checkpoints: NO_CHECKPOINTS, logger: options.logger, resolveSecret: options.resolveSecret },
  );
  const source = await openSourceClient(
    {
      host: sync.source.host,
      port: sync.source.port,
      label: sync.source.label,
      username: sync.source.username,
      password: sync.source.password,
      tls: sync.source.tls,
    },
    options.name,
    onLost,
  );
  let target: TargetReader;
  try {
    target = await TargetReader.open(sync.target, onLost);
  } catch (error) {
    source.close();
    throw error;
  }
  return {
    source: new DbClient(source.redis, source.label),
    target,
    targetOptions: sync.target,
    close() {
      source.close();
      target.close();
    },
  };
}
