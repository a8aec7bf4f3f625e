import type net from 'node:net';
import { CommandEncoder } from './command-encoder.js';
import { Fifo } from './fifo.js';
import { handshake, type Endpoint } from './handshake.js';
import { ReplyReader } from './reply-reader.js';
import type { RestoreRecord } from './types.js';

const MULTI = [Buffer.from('MULTI')];
const EXEC = [Buffer.from('EXEC')];
const ASKING = [Buffer.from('ASKING')];

/** Encoded bytes beyond which a write goes out at once instead of at the end of the current tick. */
const EAGER_FLUSH_BYTES = 256 * 1024;

/** What a link reports, per reply in order, and once if it is lost. */
export interface LinkHandlers<T> {
  /** `error` is the error reply text (without `-`), or the first error inside an aggregate reply */
  onReply(tag: T, error: string | null): void;
  /** the socket closed or broke while the link was open; `unconfirmed` commands got no reply */
  onLost(why: string, unconfirmed: number): void;
}

/**
 * One authenticated connection to one Redis server with its own RESP encoding. Commands are encoded into shared
 * chunks and written once per event-loop turn (one `writev`), never awaited one by one; each command carries a caller tag
 * of type `T`, handed back with its reply (replies arrive in order). Commands the link adds by itself (SELECT,
 * MULTI, ASKING) carry the `internal` tag. Tracks the selected db and sends `SELECT` only when a write needs
 * another db. Nothing is ever re-sent: a lost link reports `onLost` and stays dead.
 */
export class RedisLink<T> {
  handlers: LinkHandlers<T> | null = null;
  private readonly encoder = new CommandEncoder();
  private readonly tags = new Fifo<T>();
  private readonly reader: ReplyReader;
  private db = 0;
  private flushScheduled = false;
  private closing = false;
  private lastSocketError: Error | null = null;
  private readonly flushNow = (): void => this.flush();

  private constructor(
    private readonly socket: net.Socket,
    readonly label: string,
    private readonly internal: T,
  ) {
    this.reader = new ReplyReader((error) => this.onReply(error));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.feed(chunk);
      } catch (err) {
        this.lose(`it sent an unreadable reply (${(err as Error).message})`);
      }
    });
    socket.on('error', (err) => (this.lastSocketError = err));
    socket.on('close', () => {
      const cause = this.lastSocketError ? `: ${this.lastSocketError.message}` : '';
      this.lose(`the connection closed${cause}`);
    });
  }

  /**
   * Connects, authenticates and checks that the server answers PING.
   * @throws TargetConnectError | TargetAuthError naming `endpoint.label`
   */
  static async open<T>(endpoint: Endpoint, internal: T): Promise<RedisLink<T>> {
    const socket = await handshake(endpoint);
    return new RedisLink(socket, endpoint.label, internal);
  }

  /** commands written or queued that have no reply yet */
  get unconfirmed(): number {
    return this.tags.length;
  }

  get isOpen(): boolean {
    return !this.closing;
  }

  restore(record: RestoreRecord, tag: T): void {
    this.selectDb(record.db);
    this.encoder.restore(record);
    this.enqueue(tag);
  }

  command(db: number, args: readonly Buffer[], tag: T): void {
    this.selectDb(db);
    this.encoder.command(args);
    this.enqueue(tag);
  }

  /** `ASKING` then `args` (cluster: a one-off redirection to a node importing the slot) */
  asking(args: readonly Buffer[] | RestoreRecord, tag: T): void {
    this.encoder.command(ASKING);
    this.tags.push(this.internal);
    if (Array.isArray(args)) this.encoder.command(args as readonly Buffer[]);
    else this.encoder.restore(args as RestoreRecord);
    this.enqueue(tag);
  }

  /** `MULTI`, `commands` (tagged `tags[i]`), `EXEC` (tagged `exec`), starting in `db` */
  transaction(db: number, commands: readonly Buffer[][], tags: readonly T[], exec: T): void {
    this.selectDb(db);
    this.encoder.command(MULTI);
    this.tags.push(this.internal);
    for (let i = 0; i < commands.length; i++) {
      const args = commands[i];
      this.encoder.command(args);
      this.tags.push(tags[i]);
      // A SELECT inside the transaction moves the connection once EXEC runs.
      if (
        args.length === 2 &&
        args[0].length === 6 &&
        args[0].toString('latin1').toUpperCase() === 'SELECT'
      ) {
        this.db = Number(args[1].toString('latin1'));
      }
    }
    this.encoder.command(EXEC);
    this.enqueue(exec);
  }

  /** Ends the connection without waiting for replies; queued commands are dropped. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  private selectDb(db: number): void {
    if (db === this.db) return;
    this.encoder.select(db);
    this.tags.push(this.internal);
    this.db = db;
  }

  private enqueue(tag: T): void {
    this.tags.push(tag);
    if (this.encoder.size >= EAGER_FLUSH_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the poll phase, not at the end of this tick: the commands of every source chunk read in this turn
      // go out in one write (profiled: per-chunk writes made syscalls ~40% of the CPU per replicated command).
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const parts = this.encoder.take();
    if (parts.length === 0 || this.closing || this.socket.destroyed) return;
    if (parts.length === 1) {
      this.socket.write(parts[0]);
      return;
    }
    this.socket.cork();
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
  }

  private onReply(error: string | null): void {
    if (this.tags.length === 0) {
      this.lose('it sent a reply to no command');
      return;
    }
    this.handlers?.onReply(this.tags.shift() as T, error);
  }

  private lose(why: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.destroy();
    const unconfirmed = this.tags.length;
    this.tags.clear();
    this.handlers?.onLost(why, unconfirmed);
  }
}
