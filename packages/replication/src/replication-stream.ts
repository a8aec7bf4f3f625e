import { RespDecoder, RespProtocolError, frameToArgs } from '@shardbridge/resp';
import { ReplProtocolError } from './errors.js';
import { RdbTransfer } from './rdb-transfer.js';

export type StreamEvent =
  | { kind: 'rdbStart'; size: number | null }
  | { kind: 'rdbData'; chunk: Buffer }
  | { kind: 'rdbEnd'; bytes: number }
  | { kind: 'command'; args: Buffer[]; offsetAfter: number };

/**
 * Everything the master sends after its PSYNC reply, framed into events. Pure: bytes in, events out.
 *
 * After `+FULLRESYNC` the RDB payload comes first (see RdbTransfer), then commands; after `+CONTINUE`, commands
 * only. Offset contract: the RDB payload is not part of the replication stream; a command's `offsetAfter` is
 * `startOffset` plus the bytes of every complete command up to and including it, so it equals the master's
 * `master_repl_offset` just after that command. A command split across chunks is reported only once complete.
 */
export class ReplicationStream {
  private rdb: RdbTransfer | null;
  private readonly decoder: RespDecoder;
  private decoded: number;

  constructor(
    private readonly startOffset: number,
    withRdb: boolean,
    private readonly emit: (event: StreamEvent) => void,
  ) {
    this.decoded = startOffset;
    this.rdb = withRdb ? new RdbTransfer() : null;
    this.decoder = new RespDecoder((frame) => {
      let args: Buffer[];
      try {
        args = frameToArgs(frame.value);
      } catch (err) {
        throw new ReplProtocolError(
          `something other than a command in the replication stream after offset ${this.decoded}: ` +
            (err as Error).message,
        );
      }
      this.decoded += frame.byteLength;
      this.emit({ kind: 'command', args, offsetAfter: this.decoded });
    });
  }

  /** Offset just after the last complete command framed. */
  get offset(): number {
    return this.decoded;
  }

  /** Whether the RDB payload (if any) has been fully received. */
  get inCommandStream(): boolean {
    return this.rdb === null;
  }

  /** Throws ReplProtocolError on bytes that fit neither the RDB framing nor RESP commands. */
  push(chunk: Buffer): void {
    let data: Buffer | null = chunk;
    if (this.rdb) {
      data = this.rdb.push(chunk, (event) => {
        if (event.type === 'start') this.emit({ kind: 'rdbStart', size: event.size });
        else if (event.type === 'data') this.emit({ kind: 'rdbData', chunk: event.chunk });
        else this.emit({ kind: 'rdbEnd', bytes: event.bytes });
      });
      if (data === null) return;
      this.rdb = null;
    }
    if (data.length === 0) return;
    try {
      this.decoder.push(data);
    } catch (err) {
      if (!(err instanceof RespProtocolError)) throw err;
      throw new ReplProtocolError(
        `invalid RESP in the replication stream at offset ${this.startOffset + err.offset} (${err.message})`,
        { cause: err },
      );
    }
  }
}
