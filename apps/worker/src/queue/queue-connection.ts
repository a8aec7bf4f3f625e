import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions, RedisOptions as BullRedisOptions } from 'bullmq';

/**
 * Where the queue's Redis is: a `redis://` / `rediss://` URL or ioredis options. One Redis holds BullMQ's keys,
 * ShardBridge's own keys (checkpoints, control, heartbeats) and the control channel.
 */
export type QueueConnection = string | RedisOptions;

/** A new ioredis client to the queue's Redis, owned (and closed) by the caller. */
export function connectQueueRedis(connection: QueueConnection, overrides: RedisOptions = {}): Redis {
  return typeof connection === 'string'
    ? new Redis(connection, overrides)
    : new Redis({ ...connection, ...overrides });
}

/** The same place as BullMQ connection options; BullMQ opens (and closes) its own clients from these. */
export function bullConnection(connection: QueueConnection): ConnectionOptions {
  // ioredis options are what BullMQ's default client takes; only their declared types differ in detail.
  return typeof connection === 'string' ? { url: connection } : ({ ...connection } as BullRedisOptions);
}
