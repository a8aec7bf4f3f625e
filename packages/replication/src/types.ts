import type { ConnectionOptions } from 'node:tls';

/**
 * Offsets in this package are bytes of the source's replication stream, in Redis's own sense: the value of
 * `master_repl_offset` after the last byte processed. A resume sends `PSYNC <replid> <offset + 1>`.
 */
export interface ReplicaClientOptions {
  /** address that is actually dialled (the reachable address, after any NAT mapping) */
  host: string;
  port: number;
  /** a human name for errors/logs, e.g. "shard 2 (10.0.0.5:6379 via 203.0.113.7:16379)"; @defaultValue `host:port` */
  label?: string;
  /** TLS options; omitted = plain TCP */
  tls?: ConnectionOptions;
  /** ACL user; omitted = `AUTH <password>` */
  username?: string;
  password?: string;
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** no byte from the master for this long = dead link (masters PING every 10 s by default). @defaultValue 60000 */
  readTimeoutMs?: number;
  /** sent as `REPLCONF listening-port`. @defaultValue 0 */
  listeningPort?: number;
  /** resume point; omitted = `PSYNC ? -1` */
  resume?: { replid: string; offset: number };
  /** how often `REPLCONF ACK <offset>` is sent. @defaultValue 1000 */
  ackIntervalMs?: number;
}

/** What the client reports, in stream order. */
export interface ReplicaHandlers {
  /** `+FULLRESYNC <replid> <offset>`: an RDB follows; the command stream starts at `offset` */
  onFullResync(info: { replid: string; offset: number }): void;
  /** `+CONTINUE [<replid>]`: partial resync accepted; the stream continues at the resume offset */
  onContinue(info: { replid: string; offset: number }): void;
  /** start of the RDB payload; `size` is null for a diskless (`$EOF:`) transfer */
  onRdbStart(info: { size: number | null }): void;
  /** RDB bytes, in order, excluding any EOF mark. The Buffer may be a view of the socket chunk: copy to keep. */
  onRdbData(chunk: Buffer): void;
  onRdbEnd(info: { bytes: number }): void;
  /**
   * One command of the replication stream (including PING, SELECT, MULTI/EXEC and REPLCONF GETACK, which the
   * client has already answered). `offsetAfter` is the replication offset just after this command's bytes.
   */
  onCommand(args: Buffer[], offsetAfter: number): void;
  /** the link ended; `error` is null after `close()` */
  onClose(error: Error | null): void;
}
