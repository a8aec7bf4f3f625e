import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { keys } from '@shardbridge/plan';

/** What a worker says about itself in `keys.workers()`, under its worker id. */
export interface WorkerHeartbeatRecord {
  host: string;
  pid: number;
  concurrency: number;
  /** unix ms of the last beat; a record much older than the interval belongs to a dead worker */
  seenAt: number;
}

/**
 * Writes this worker's record into the `keys.workers()` hash every `intervalMs` and removes it on `stop()`. A
 * killed worker leaves its record behind: readers judge liveness by `seenAt`.
 */
export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Redis,
    private readonly workerId: string,
    private readonly record: Omit<WorkerHeartbeatRecord, 'seenAt'>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.timer) return;
    await this.beat();
    this.timer = setInterval(() => {
      this.beating = this.beat().catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'heartbeat failed'),
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A beat still on the wire would otherwise re-create the record after the HDEL.
    await this.beating;
    await this.client.hdel(keys.workers(), this.workerId);
  }

  private async beat(): Promise<void> {
    const record: WorkerHeartbeatRecord = { ...this.record, seenAt: Date.now() };
    await this.client.hset(keys.workers(), this.workerId, JSON.stringify(record));
  }
}
