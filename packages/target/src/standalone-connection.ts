import { TargetConnectError, TargetConnectionLostError, TargetError } from './errors.js';
import type { Endpoint } from './handshake.js';
import { RedisLink } from './redis-link.js';
import { errorFromReply } from './reply-error.js';
import { INTERNAL, type PendingReply, type Transport, type TransportEvents } from './transport.js';
import type { RestoreRecord, TargetWriterOptions } from './types.js';

/** Tag of commands the link adds itself (SELECT, MULTI): errors name the SELECT/MULTI that failed. */
const INTERNAL_REPLY: PendingReply = { seq: INTERNAL, name: 'SELECT/MULTI', key: null, bytes: 0 };

/** A standalone target: one {@link RedisLink}; every db is available. */
export class StandaloneConnection implements Transport {
  events: TransportEvents | null = null;

  private constructor(private readonly link: RedisLink<PendingReply>) {
    link.handlers = {
      onReply: (pending, error) =>
        this.events?.onReply(
          pending,
          error === null ? null : errorFromReply(this.label, error, pending.name, pending.key),
        ),
      onLost: (why, unconfirmed) =>
        this.events?.onLost(
          new TargetConnectionLostError(
            this.label,
            `lost the connection to target ${this.label}: ${why}; ${unconfirmed} command(s) were unconfirmed ` +
              `and are not re-sent — check the target's health and logs; the shard resumes from its checkpoint`,
          ),
        ),
    };
  }

  /**
   * Connects, authenticates and checks that the server answers PING.
   * @throws TargetConnectError | TargetAuthError naming `endpoint.label`
   */
  static async open(endpoint: Endpoint): Promise<StandaloneConnection> {
    return new StandaloneConnection(await RedisLink.open(endpoint, INTERNAL_REPLY));
  }

  /**
   * Tries the seeds in order; authentication errors are final, connection errors move on to the next seed.
   * @throws TargetConnectError (the last seed's) | TargetAuthError
   */
  static async openFirstSeed(
    options: TargetWriterOptions,
    label: string,
    connectTimeoutMs: number,
  ): Promise<StandaloneConnection> {
    let lastError: TargetError | null = null;
    for (const seed of options.seeds) {
      try {
        return await StandaloneConnection.open({
          host: seed.host,
          port: seed.port,
          tls: options.tls,
          username: options.username,
          password: options.password,
          connectTimeoutMs,
          label: options.label ?? `${seed.host}:${seed.port}`,
        });
      } catch (error) {
        if (!(error instanceof TargetError) || error.code !== 'TARGET_CONNECT_FAILED') throw error;
        lastError = error;
      }
    }
    throw lastError ?? new TargetConnectError(label, `target ${label}: no seed address given`);
  }

  get label(): string {
    return this.link.label;
  }

  restore(record: RestoreRecord, pending: PendingReply): void {
    this.link.restore(record, pending);
  }

  command(db: number, args: Buffer[], pending: PendingReply): void {
    this.link.command(db, args, pending);
  }

  transaction(db: number, commands: Buffer[][], pendings: PendingReply[], exec: PendingReply): void {
    this.link.transaction(db, commands, pendings, exec);
  }

  checkDb(): TargetError | null {
    return null;
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
