import type { Socket } from 'node:net';
import { encodeCommand } from '@shardbridge/resp';
import { classifySocketError, openSocket } from './connect.js';
import {
  ReplConnectTimeoutError,
  ReplConnectionClosedError,
  ReplProtocolError,
  ReplReadTimeoutError,
  ReplicationError,
} from './errors.js';
import {
  checkStepReply,
  handshakeSteps,
  parsePsyncReply,
  psyncCommand,
  type HandshakeStep,
} from './handshake.js';
import { ReplicationStream, type StreamEvent } from './replication-stream.js';
import { ReplyLineReader } from './reply-line-reader.js';
import type { ReplicaClientOptions, ReplicaHandlers } from './types.js';

/** Everything reported to the handlers goes through one queue, so pause() can stop it at any point. */
type Delivery =
  | { kind: 'fullResync'; replid: string; offset: number }
  | { kind: 'continue'; replid: string; offset: number }
  | StreamEvent;

type Phase = 'new' | 'connecting' | 'handshake' | 'stream' | 'closed';

const NEWLINE = Buffer.from('\n');

/**
 * A Redis replica link: connects, runs the handshake, receives the RDB (full resync) or continues the stream
 * (partial resync), then hands every replicated command to the handlers with its exact replication offset.
 *
 * Input is framed eagerly as it arrives (at most one socket chunk ahead) and delivered through a queue; pause()
 * stops both the socket and the queue, so a slow consumer pushes back on TCP and, beyond that, on the master's
 * replica output buffer. One instance is one connection: to reconnect, create a new client with
 * `resume: { replid, offset }` from the old one.
 */
export class ReplicaClient {
  private readonly label: string;
  private readonly connectTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly ackIntervalMs: number;
  private readonly steps: HandshakeStep[];

  private phase: Phase = 'new';
  private socket: Socket | null = null;
  private connected = false;
  /** the TCP connection was accepted (before TLS, if any): the address is right */
  private reachedServer = false;
  private socketClosed = false;
  private stepIndex = 0;
  private psyncSent = false;
  private readonly lines = new ReplyLineReader();
  private stream: ReplicationStream | null = null;
  /** the RDB (if any) was handed over: ACKs may start */
  private rdbLoaded = false;

  private currentReplid: string | null;
  private deliveredOffset: number;
  /** where this connection's stream started: the FULLRESYNC offset or the resume offset */
  private startOffset = 0;
  private acknowledged: number | null = null;

  private queue: Array<Delivery | undefined> = [];
  private queueHead = 0;
  private paused = false;
  private draining = false;

  private lastReadAt = 0;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;

  private started = false;
  private startWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** why the link ended; `error` null = close() */
  private terminal: { error: Error | null; dropQueue: boolean } | null = null;
  private closeNotified = false;
  private resolveClosed!: () => void;
  private readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private readonly options: ReplicaClientOptions,
    private readonly handlers: ReplicaHandlers,
  ) {
    this.label = options.label ?? `${options.host}:${options.port}`;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    this.ackIntervalMs = options.ackIntervalMs ?? 1000;
    this.steps = handshakeSteps({
      username: options.username,
      password: options.password,
      listeningPort: options.listeningPort ?? 0,
    });
    this.currentReplid = options.resume?.replid ?? null;
    this.deliveredOffset = options.resume?.offset ?? 0;
  }

  /** The master's replication id, once known (or the resume replid before the handshake). */
  get replid(): string | null {
    return this.currentReplid;
  }

  /** Replication offset just after the last command handed to onCommand (the stream start before any). */
  get offset(): number {
    return this.deliveredOffset;
  }

  /**
   * Connects and runs the handshake. Resolves once `+FULLRESYNC` or `+CONTINUE` arrived; rejects with a
   * ReplicationError otherwise (then onClose is not called). Call once.
   */
  start(): Promise<void> {
    if (this.phase !== 'new')
      return Promise.reject(new Error('ReplicaClient.start() may be called only once'));
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.phase = 'connecting';
      const { socket, ready } = openSocket(this.options.host, this.options.port, this.options.tls);
      this.socket = socket;
      this.armHandshakeTimer();
      socket.once('connect', () => (this.reachedServer = true));
      socket.once(ready, () => this.onConnected());
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        this.fail(
          classifySocketError(err, this.label, this.connected, this.connectTimeoutMs, this.reachedServer),
          false,
        );
      });
      socket.on('close', () => this.onSocketClose());
    });
  }

  /**
   * What `REPLCONF ACK` reports from now on: the offset up to which the consumer has durably applied the
   * stream. Until called, the stream's start offset is reported.
   */
  setAcknowledgedOffset(offset: number): void {
    this.acknowledged = offset;
  }

  /** Stops reading the socket and delivering queued data; safe to call from inside a handler. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  /** Undoes pause(); queued data is delivered asynchronously, never inside this call. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastReadAt = Date.now();
    // The socket reads again once the queue is empty (drain() does it). Resuming it here framed another socket
    // chunk on top of the backlog at every resume, so a consumer slower than the source grew the queue without
    // bound (heap snapshot under redis-benchmark: 400k queued commands, ~300 MB).
    setImmediate(() => this.drain());
  }

  /** Ends the link; resolves after the socket closed and onClose(null) ran. Undelivered data is dropped. */
  close(): Promise<void> {
    if (this.phase === 'new') {
      this.phase = 'closed';
      this.socketClosed = true;
      this.terminal = { error: null, dropQueue: true };
      this.maybeNotifyClose();
    } else {
      this.fail(null, true);
    }
    return this.closed;
  }

  private onConnected(): void {
    this.connected = true;
    this.reachedServer = true;
    this.phase = 'handshake';
    this.lastReadAt = Date.now();
    this.write(encodeCommand(this.steps[0].command));
  }

  private onData(chunk: Buffer): void {
    if (this.terminal) return;
    this.lastReadAt = Date.now();
    // After PSYNC, a master that is still preparing the RDB sends `\n` every second: silence is what times out.
    if (this.phase === 'handshake' && this.psyncSent) this.armHandshakeTimer();
    try {
      this.ingest(chunk);
    } catch (err) {
      // what was framed before the bad byte is still valid and is delivered before onClose
      this.fail(this.asProtocolError(err), false);
    }
    this.drain();
  }

  private ingest(chunk: Buffer): void {
    switch (this.phase) {
      case 'handshake':
        this.lines.push(chunk);
        this.readReplies();
        return;
      case 'stream':
        this.stream!.push(chunk);
        return;
      default:
        return;
    }
  }

  /** Handshake replies, one per command sent; the next command goes out only after its predecessor's reply. */
  private readReplies(): void {
    while (this.phase === 'handshake') {
      const line = this.lines.readLine();
      if (line === null) return;
      const hasUsername = this.options.username !== undefined;
      if (this.psyncSent) {
        this.onPsyncReply(parsePsyncReply(line, this.label, hasUsername));
        const rest = this.lines.takeRest();
        if (rest.length > 0) this.ingest(rest);
        return;
      }
      checkStepReply(this.steps[this.stepIndex], line, this.label, hasUsername);
      this.stepIndex++;
      if (this.stepIndex < this.steps.length) {
        this.write(encodeCommand(this.steps[this.stepIndex].command));
      } else {
        this.psyncSent = true;
        this.write(encodeCommand(psyncCommand(this.options.resume)));
      }
    }
  }

  private onPsyncReply(reply: ReturnType<typeof parsePsyncReply>): void {
    this.clearHandshakeTimer();
    if (reply.kind === 'fullresync') {
      this.currentReplid = reply.replid;
      this.startOffset = reply.offset;
      this.enqueue({ kind: 'fullResync', replid: reply.replid, offset: reply.offset });
    } else {
      if (!this.options.resume)
        throw new ReplProtocolError(`${this.label} answered PSYNC ? -1 with +CONTINUE`);
      if (reply.replid !== null) this.currentReplid = reply.replid;
      this.startOffset = this.options.resume.offset;
      this.rdbLoaded = true;
      this.enqueue({ kind: 'continue', replid: this.currentReplid!, offset: this.startOffset });
    }
    this.phase = 'stream';
    this.stream = new ReplicationStream(this.startOffset, reply.kind === 'fullresync', (e) =>
      this.enqueue(e),
    );
    this.deliveredOffset = this.startOffset;
    this.armReadTimer();
    this.ackTimer = setInterval(() => this.keepAlive(), this.ackIntervalMs);
    this.ackTimer.unref();
    this.started = true;
    this.startWaiter?.resolve();
  }

  private enqueue(delivery: Delivery): void {
    this.queue.push(delivery);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.paused && this.queueHead < this.queue.length && !this.terminal?.dropQueue) {
        const delivery = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined;
        this.deliver(delivery);
      }
      if (this.queueHead >= this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
        if (!this.paused && this.terminal === null) this.socket?.resume();
      }
    } catch (err) {
      this.draining = false;
      this.fail(err instanceof Error ? err : new Error(String(err)), true);
    } finally {
      this.draining = false;
    }
    this.maybeNotifyClose();
  }

  private deliver(d: Delivery): void {
    switch (d.kind) {
      case 'command':
        if (isGetAck(d.args)) this.sendAck(d.offsetAfter);
        this.deliveredOffset = d.offsetAfter;
        this.handlers.onCommand(d.args, d.offsetAfter);
        return;
      case 'rdbData':
        this.handlers.onRdbData(d.chunk);
        return;
      case 'fullResync':
        this.handlers.onFullResync({ replid: d.replid, offset: d.offset });
        return;
      case 'continue':
        this.handlers.onContinue({ replid: d.replid, offset: d.offset });
        return;
      case 'rdbStart':
        this.handlers.onRdbStart({ size: d.size });
        return;
      case 'rdbEnd':
        this.handlers.onRdbEnd({ bytes: d.bytes });
        // The first ACK tells a diskless master that the payload was consumed; only then does it start the stream.
        this.rdbLoaded = true;
        this.sendAck();
        return;
    }
  }

  /**
   * `REPLCONF ACK <acknowledged offset>`. Never more than `ceiling` (the GETACK's own offset), as a consumer
   * cannot have applied what it has not been given.
   */
  private sendAck(ceiling?: number): void {
    let offset = this.acknowledged ?? this.startOffset;
    if (ceiling !== undefined && offset > ceiling) offset = ceiling;
    this.write(encodeCommand(['REPLCONF', 'ACK', offset]));
  }

  /** Every ackIntervalMs: ACK in the stream phase; while the RDB is still being received, a `\n` (what a
   * loading Redis replica sends) so the master does not time the link out without learning a bogus offset. */
  private keepAlive(): void {
    if (this.terminal) return;
    if (this.rdbLoaded) this.sendAck();
    else this.write(NEWLINE);
  }

  private write(data: Buffer): void {
    const socket = this.socket;
    if (socket && !socket.destroyed && socket.writable) socket.write(data);
  }

  private armHandshakeTimer(): void {
    this.clearHandshakeTimer();
    this.handshakeTimer = setTimeout(() => {
      const waitingFor = this.connected
        ? this.psyncSent
          ? 'the PSYNC reply'
          : `the reply to ${this.steps[this.stepIndex].name}`
        : null;
      this.fail(
        new ReplConnectTimeoutError(
          waitingFor === null
            ? `could not connect to ${this.label} within ${this.connectTimeoutMs} ms — is the address reachable` +
                ' from this host? behind NAT, map the announced address to a reachable one'
            : `${this.label} accepted the connection but sent no ${waitingFor} within ${this.connectTimeoutMs} ms` +
                ' — is it a Redis server (TLS vs plain-text port?), and not frozen or overloaded?',
          { reachedServer: this.reachedServer },
        ),
        false,
      );
    }, this.connectTimeoutMs);
    this.handshakeTimer.unref();
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  /** One timer re-armed for the remaining time, instead of a reset on every chunk. Paused time is not silence. */
  private armReadTimer(delay = this.readTimeoutMs): void {
    this.readTimer = setTimeout(() => {
      if (this.terminal) return;
      const now = Date.now();
      if (this.paused) this.lastReadAt = now;
      const idle = now - this.lastReadAt;
      if (idle < this.readTimeoutMs) {
        this.armReadTimer(this.readTimeoutMs - idle);
        return;
      }
      this.fail(
        new ReplReadTimeoutError(
          `no data from ${this.label} for ${this.readTimeoutMs} ms at offset ${this.deliveredOffset}: the master` +
            ' or the network stalled (masters PING replicas every repl-ping-replica-period, 10 s by default)',
        ),
        false,
      );
    }, delay);
    this.readTimer.unref();
  }

  private onSocketClose(): void {
    this.socketClosed = true;
    if (!this.terminal) {
      const where =
        this.phase === 'handshake' || this.phase === 'connecting'
          ? `during the handshake (${this.psyncSent ? 'PSYNC' : (this.steps[this.stepIndex]?.name ?? 'connect')})`
          : `at offset ${this.stream?.offset ?? this.startOffset}`;
      const handshake = this.phase !== 'stream';
      this.fail(
        new ReplConnectionClosedError(
          `connection to ${this.label} closed by the master or the network ${where}: ` +
            (handshake
              ? 'a NAT gateway or load balancer dropping the flow, a restart, maxclients, or a TLS-only port' +
                ' (then set source.tls)'
              : 'CLIENT KILL, a restart, repl-timeout or client-output-buffer-limit replica; reconnect with the' +
                ' saved replid/offset to resume'),
          { reachedServer: this.reachedServer },
        ),
        false,
      );
    }
    this.drain();
  }

  /** Ends the link once; `error` null means close(). `dropQueue` discards undelivered data. */
  private fail(error: Error | null, dropQueue: boolean): void {
    if (this.terminal) {
      if (dropQueue) this.terminal.dropQueue = true;
      return;
    }
    this.terminal = { error, dropQueue: dropQueue || !this.started };
    this.phase = 'closed';
    this.clearHandshakeTimer();
    if (this.readTimer) clearTimeout(this.readTimer);
    if (this.ackTimer) clearInterval(this.ackTimer);
    if (!this.started) {
      this.startWaiter?.reject(
        error ??
          new ReplConnectionClosedError(
            `close() was called before the handshake with ${this.label} finished`,
          ),
      );
    }
    this.socket?.destroy();
    this.maybeNotifyClose();
  }

  /** onClose comes last: after the socket closed and, unless dropped, after every queued delivery. */
  private maybeNotifyClose(): void {
    const terminal = this.terminal;
    if (!terminal || this.closeNotified || !this.socketClosed || this.draining) return;
    if (!terminal.dropQueue && (this.paused || this.queueHead < this.queue.length)) return;
    this.closeNotified = true;
    this.queue = [];
    this.queueHead = 0;
    try {
      if (this.started) this.handlers.onClose(terminal.error);
    } finally {
      this.resolveClosed();
    }
  }

  private asProtocolError(err: unknown): Error {
    if (err instanceof ReplProtocolError && !err.message.includes(this.label)) {
      return new ReplProtocolError(`${this.label} broke the replication protocol: ${err.message}`, {
        cause: err,
      });
    }
    if (err instanceof ReplicationError) return err;
    return err instanceof Error ? err : new Error(String(err));
  }
}

function isGetAck(args: Buffer[]): boolean {
  return (
    args.length >= 2 &&
    args[0].length === 8 &&
    args[0].toString('latin1').toUpperCase() === 'REPLCONF' &&
    args[1].toString('latin1').toUpperCase() === 'GETACK'
  );
}
