import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { CommandEncoder } from './command-encoder.js';
import { TargetAuthError, TargetConnectError, type TargetError } from './errors.js';
import { Fifo } from './fifo.js';
import { ReplyReader } from './reply-reader.js';
import { errorFromReply } from './reply-error.js';
import { INTERNAL, type PendingReply, type Transport, type TransportEvents } from './transport.js';
import type { RestoreRecord } from './types.js';

/** Where and how to reach one Redis server. */
export interface Endpoint {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  username?: string;
  password?: string;
  /** bound on connect + AUTH + PING */
  connectTimeoutMs: number;
  /** name used in errors */
  label: string;
}

/** Encoded bytes beyond which a write goes out at once instead of at the end of the current tick. */
const EAGER_FLUSH_BYTES = 256 * 1024;

const SELECT_REPLY: PendingReply = { seq: INTERNAL, name: 'SELECT', key: null };
const MULTI_REPLY: PendingReply = { seq: INTERNAL, name: 'MULTI', key: null };

/**
 * A standalone target over one raw socket with its own RESP encoding: commands are encoded into shared chunks
 * and written once per tick; replies arrive in order and are matched to a FIFO of {@link PendingReply}.
 * Tracks the connection's selected db and sends `SELECT` only when a write needs another db.
 */
export class StandaloneConnection implements Transport {
  events: TransportEvents | null = null;
  private readonly encoder = new CommandEncoder();
  private readonly pending = new Fifo<PendingReply>();
  private readonly reader: ReplyReader;
  private db = 0;
  private flushScheduled = false;
  private closing = false;
  private lastSocketError: Error | null = null;
  private readonly flushNow = (): void => this.flush();

  private constructor(
    private readonly socket: net.Socket,
    readonly label: string,
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
  static async open(endpoint: Endpoint): Promise<StandaloneConnection> {
    const socket = await handshake(endpoint);
    return new StandaloneConnection(socket, endpoint.label);
  }

  restore(record: RestoreRecord, pending: PendingReply): void {
    this.selectDb(record.db);
    this.encoder.restore(record);
    this.enqueue(pending);
  }

  command(db: number, args: Buffer[], pending: PendingReply): void {
    this.selectDb(db);
    this.encoder.command(args);
    this.enqueue(pending);
  }

  transaction(db: number, commands: Buffer[][], pendings: PendingReply[], exec: PendingReply): void {
    this.selectDb(db);
    this.encoder.command([Buffer.from('MULTI')]);
    this.pending.push(MULTI_REPLY);
    for (let i = 0; i < commands.length; i++) {
      this.encoder.command(commands[i]);
      this.pending.push(pendings[i]);
      // a SELECT inside the transaction moves the connection once EXEC runs
      if (pendings[i].name === 'SELECT') this.db = Number(commands[i][1]?.toString('latin1'));
    }
    this.encoder.command([Buffer.from('EXEC')]);
    this.enqueue(exec);
  }

  checkDb(): TargetError | null {
    return null;
  }

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
    this.pending.push(SELECT_REPLY);
    this.db = db;
  }

  private enqueue(pending: PendingReply): void {
    this.pending.push(pending);
    if (this.encoder.size >= EAGER_FLUSH_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushNow);
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
    const pending = this.pending.shift();
    if (!pending) {
      this.lose('it sent a reply to no command');
      return;
    }
    this.events?.onReply(
      pending,
      error === null ? null : errorFromReply(this.label, error, pending.name, pending.key),
    );
  }

  private lose(why: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.destroy();
    const unconfirmed = this.pending.length;
    this.pending.clear();
    this.events?.onLost(
      new TargetConnectError(
        this.label,
        `lost the connection to target ${this.label}: ${why}; ${unconfirmed} command(s) were unconfirmed and are ` +
          `not re-sent — check the target's health and logs; the shard resumes from its checkpoint`,
      ),
    );
  }
}

/** Dials, sends `AUTH` (if a password is set) and `PING`, and waits for both replies within the timeout. */
function handshake(endpoint: Endpoint): Promise<net.Socket> {
  const { label } = endpoint;
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = endpoint.tls
      ? tls.connect({
          host: endpoint.host,
          port: endpoint.port,
          // SNI must be a hostname, never an IP address
          ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
          ...endpoint.tls,
        })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    let settled = false;
    const fail = (error: TargetError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new TargetConnectError(
            label,
            `target ${label} did not answer within ${endpoint.connectTimeoutMs} ms: check that the address is ` +
              `reachable from this worker (firewall, NAT mapping${endpoint.tls ? ', TLS' : ''}) and the server is up`,
          ),
        ),
      endpoint.connectTimeoutMs,
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        new TargetConnectError(
          label,
          `cannot connect to target ${label}: ${err.code ?? err.message} — check the host and port, that the ` +
            `target is running and reachable from this worker${endpoint.tls ? ', and the TLS settings' : ''}`,
          { cause: err },
        ),
      ),
    );
    socket.once('close', () =>
      fail(new TargetConnectError(label, `target ${label} closed the connection during the handshake`)),
    );

    const steps: Array<'AUTH' | 'PING'> = endpoint.password !== undefined ? ['AUTH', 'PING'] : ['PING'];
    const reader = new ReplyReader((error) => {
      const step = steps.shift();
      if (error !== null) {
        fail(handshakeError(label, step ?? 'PING', error, endpoint.password !== undefined));
      } else if (steps.length === 0 && !settled) {
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        resolve(socket);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.feed(chunk);
      } catch (err) {
        fail(new TargetConnectError(label, `target ${label} does not speak RESP: ${(err as Error).message}`));
      }
    });
    const encoder = new CommandEncoder();
    if (endpoint.password !== undefined) {
      const auth = [Buffer.from('AUTH')];
      if (endpoint.username !== undefined) auth.push(Buffer.from(endpoint.username));
      auth.push(Buffer.from(endpoint.password));
      encoder.command(auth);
    }
    encoder.command([Buffer.from('PING')]);
    for (const part of encoder.take()) socket.write(part);
  });
}

function handshakeError(
  label: string,
  step: 'AUTH' | 'PING',
  reply: string,
  gavePassword: boolean,
): TargetError {
  if (step === 'AUTH') {
    if (/without any password configured/i.test(reply)) {
      return new TargetAuthError(
        label,
        `target ${label} has no password but one was given: remove the password from the plan ` +
          `(or set requirepass on the target)`,
      );
    }
    return new TargetAuthError(
      label,
      `target ${label} rejected the credentials (${reply}): check the target username/password in the plan`,
    );
  }
  if (reply.startsWith('NOAUTH')) {
    return new TargetAuthError(
      label,
      gavePassword
        ? `target ${label} still demands authentication after AUTH: check the target username/password`
        : `target ${label} requires a password: set the target password (and username for ACL users) in the plan`,
    );
  }
  if (reply.startsWith('LOADING')) {
    return new TargetConnectError(
      label,
      `target ${label} is loading its dataset: retry once it has finished`,
    );
  }
  return new TargetConnectError(label, `target ${label} did not answer PING (${reply})`);
}
