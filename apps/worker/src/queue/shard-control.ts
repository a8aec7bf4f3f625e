import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { keys, parseStoredCaps, shardCapsOf, type ShardCaps } from '@shardbridge/plan';
import { connectQueueRedis, type QueueConnection } from './queue-connection.js';

/** What the operator wants a shard to do. The control key is the truth; an absent key means `run`. */
export type DesiredState = 'run' | 'stop';

export interface ShardControlOptions {
  /**
   * How often watched shards' control keys are read even without a message, in case a pub/sub message was lost
   * (pub/sub is fire-and-forget: a subscriber that is reconnecting misses what was published meanwhile).
   * @defaultValue 3000
   */
  pollIntervalMs?: number;
  /** @defaultValue no logging */
  logger?: Logger;
}

interface Watcher {
  onStop: () => void;
  fired: boolean;
}

interface CapsWatcher {
  planId: string;
  onCaps: (caps: ShardCaps) => void;
  /** JSON of the caps last handed to onCaps */
  last: string | null;
}

/**
 * The control channel between operators (coordinator, CLI) and workers. The desired state of a shard is the string
 * at `keys.control(shardId)`; a change is announced on `keys.controlChannel()` with the shard id as the message, so
 * a running worker reacts within a round trip. The message only says "look again": watchers re-read the key, which
 * also makes duplicated or reordered messages harmless.
 *
 * One instance per worker process: it holds one subscriber connection and one command connection.
 */
export class ShardControl {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly capsWatchers = new Map<string, CapsWatcher>();
  private readonly subscribed: Promise<void>;
  private readonly pollIntervalMs: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    connection: QueueConnection,
    private readonly options: ShardControlOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 3000;
    this.client = connectQueueRedis(connection, { connectionName: 'shardbridge-control' });
    this.subscriber = connectQueueRedis(connection, { connectionName: 'shardbridge-control-sub' });
    for (const redis of [this.client, this.subscriber]) {
      redis.on('error', (error: Error) =>
        this.options.logger?.debug({ err: error.message }, 'control connection error'),
      );
    }
    this.subscriber.on('message', (_channel: string, shardId: string) => void this.check([shardId]));
    // After a reconnect ioredis subscribes again, but whatever was published meanwhile is gone: look at the keys.
    this.subscriber.on('ready', () => void this.check(this.watchedShards()));
    this.subscribed = this.subscriber.subscribe(keys.controlChannel()).then(() => undefined);
    this.subscribed.catch((error: Error) =>
      this.options.logger?.warn(
        { err: error.message },
        'cannot subscribe to the control channel; polling only',
      ),
    );
  }

  /** Resolves once the subscription is active (messages published from then on are seen). */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  /**
   * Calls `onStop` once when the shard's desired state is (or becomes) `stop`. Returns the function that stops
   * watching. The key is read right away too, so a stop requested just before `watch` is not missed.
   */
  watch(shardId: string, onStop: () => void): () => void {
    const watcher: Watcher = { onStop, fired: false };
    let set = this.watchers.get(shardId);
    if (!set) this.watchers.set(shardId, (set = new Set()));
    set.add(watcher);
    this.startPolling();
    void this.check([shardId]);
    return () => {
      const current = this.watchers.get(shardId);
      current?.delete(watcher);
      if (current?.size === 0) this.watchers.delete(shardId);
      if (this.watchedShards().length === 0) this.stopPolling();
    };
  }

  /**
   * Calls `onCaps` with the shard's rate caps (see `shardCapsOf`) now and whenever they change: the plan's caps at
   * `keys.caps(planId)` are read again on every control message for the shard and every poll. Returns the function
   * that stops watching.
   */
  watchCaps(planId: string, shardId: string, onCaps: (caps: ShardCaps) => void): () => void {
    const watcher: CapsWatcher = { planId, onCaps, last: null };
    this.capsWatchers.set(shardId, watcher);
    this.startPolling();
    void this.checkCaps([shardId]);
    return () => {
      if (this.capsWatchers.get(shardId) === watcher) this.capsWatchers.delete(shardId);
      if (this.watchedShards().length === 0) this.stopPolling();
    };
  }

  /** The shard's rate caps as stored now (a plan cap divided by the plan's shard count, or its own). */
  async capsOf(planId: string, shardId: string): Promise<ShardCaps> {
    const [raw, shards] = await Promise.all([
      this.client.get(keys.caps(planId)),
      this.client.hget(keys.plan(planId), 'shards'),
    ]);
    return shardCapsOf(parseStoredCaps(raw), shardId, shardCount(shards));
  }

  async desiredState(shardId: string): Promise<DesiredState> {
    return toDesiredState(await this.client.get(keys.control(shardId)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    this.watchers.clear();
    this.capsWatchers.clear();
    await Promise.all(
      [this.client, this.subscriber].map((redis) => redis.quit().catch(() => redis.disconnect())),
    );
  }

  /** Durably asks every worker to stop the shard (its job then completes), and tells running workers now. */
  static async requestStop(client: Redis, shardId: string): Promise<void> {
    await ShardControl.request(client, shardId, 'stop');
  }

  /** Durably clears a stop request. The shard's job must be (re)enqueued or retried to actually run again. */
  static async requestRun(client: Redis, shardId: string): Promise<void> {
    await ShardControl.request(client, shardId, 'run');
  }

  private static async request(client: Redis, shardId: string, state: DesiredState): Promise<void> {
    await client.multi().set(keys.control(shardId), state).publish(keys.controlChannel(), shardId).exec();
  }

  private async check(shardIds: string[]): Promise<void> {
    void this.checkCaps(shardIds);
    const watched = shardIds.filter((id) => this.watchers.has(id));
    if (watched.length === 0 || this.closed) return;
    let values: Array<string | null>;
    try {
      values = await this.client.mget(watched.map((id) => keys.control(id)));
    } catch (error) {
      this.options.logger?.warn({ err: (error as Error).message }, 'cannot read control keys; will retry');
      return;
    }
    watched.forEach((shardId, index) => {
      if (toDesiredState(values[index]) !== 'stop') return;
      for (const watcher of this.watchers.get(shardId) ?? []) {
        if (watcher.fired) continue;
        watcher.fired = true;
        try {
          watcher.onStop();
        } catch (error) {
          this.options.logger?.error({ err: (error as Error).message, shardId }, 'stop handler threw');
        }
      }
    });
  }

  private async checkCaps(shardIds: string[]): Promise<void> {
    for (const shardId of shardIds) {
      const watcher = this.capsWatchers.get(shardId);
      if (!watcher || this.closed) continue;
      let caps: ShardCaps;
      try {
        caps = await this.capsOf(watcher.planId, shardId);
      } catch (error) {
        this.options.logger?.warn({ err: (error as Error).message }, 'cannot read rate caps; will retry');
        return;
      }
      const json = JSON.stringify(caps);
      if (json === watcher.last || this.capsWatchers.get(shardId) !== watcher) continue;
      watcher.last = json;
      try {
        watcher.onCaps(caps);
      } catch (error) {
        this.options.logger?.error({ err: (error as Error).message, shardId }, 'caps handler threw');
      }
    }
  }

  private watchedShards(): string[] {
    return [...new Set([...this.watchers.keys(), ...this.capsWatchers.keys()])];
  }

  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => void this.check(this.watchedShards()), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

/** Shards of a plan's record (the `shards` field of its hash); 1 when unreadable, so a plan cap is never exceeded. */
function shardCount(shards: string | null): number {
  try {
    const parsed: unknown = JSON.parse(shards ?? '[]');
    return Array.isArray(parsed) && parsed.length > 0 ? parsed.length : 1;
  } catch {
    return 1;
  }
}

function toDesiredState(value: string | null | undefined): DesiredState {
  return value === 'stop' ? 'stop' : 'run';
}
