import { ReplProtocolError } from './errors.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
const DOLLAR = 0x24;

/** Length of the random delimiter of a diskless transfer (Redis's run-id size). */
export const EOF_MARK_LENGTH = 40;
const MAX_HEADER = 128;

export type RdbTransferEvent =
  { type: 'start'; size: number | null } | { type: 'data'; chunk: Buffer } | { type: 'end'; bytes: number };

/**
 * Frames the RDB payload that follows `+FULLRESYNC`, in either of the master's two forms:
 *
 * - disk: `$<len>\r\n` then exactly `len` bytes, with NO trailing CRLF;
 * - diskless: `$EOF:<40-byte mark>\r\n` then the payload, then the same 40-byte mark.
 *
 * Bare `\n` keep-alives before the `$` are skipped. Payload bytes are emitted as they arrive (views of the
 * pushed chunks, in order) so the RDB is never held in memory. In diskless form the last 40 bytes received are
 * held back until the next chunk shows whether they are the mark; each byte is searched at most twice.
 *
 * Contract: `push` returns null while the transfer is incomplete, and the bytes after the payload (the start of
 * the command stream, possibly empty) once it is complete. Pushing after completion is a bug.
 */
export class RdbTransfer {
  private phase: 'header' | 'disk' | 'eof' | 'done' = 'header';
  private header: Buffer = EMPTY;
  private remaining = 0;
  private mark: Buffer = EMPTY;
  /** diskless: up to 40 trailing bytes not yet known to be payload */
  private held: Buffer = EMPTY;
  private bytes = 0;

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Payload bytes emitted so far. */
  get payloadBytes(): number {
    return this.bytes;
  }

  push(chunk: Buffer, emit: (event: RdbTransferEvent) => void): Buffer | null {
    let data = chunk;
    if (this.phase === 'header') {
      const body = this.readHeader(data, emit);
      if (body === null) return null;
      data = body;
    }
    if (this.phase === 'disk') return this.pushDisk(data, emit);
    if (this.phase === 'eof') return this.pushEof(data, emit);
    throw new Error('RdbTransfer.push after the transfer completed');
  }

  /** Returns the bytes after the header once it is complete, else null. */
  private readHeader(chunk: Buffer, emit: (event: RdbTransferEvent) => void): Buffer | null {
    let data = chunk;
    if (this.header.length === 0) {
      let skip = 0;
      while (skip < data.length && data[skip] === LF) skip++;
      data = data.subarray(skip);
      if (data.length === 0) return null;
      if (data[0] !== DOLLAR) {
        throw new ReplProtocolError(
          `expected the RDB payload header ($), got byte 0x${data[0].toString(16)}`,
        );
      }
    }
    const searchFrom = this.header.length;
    const joined = this.header.length === 0 ? data : Buffer.concat([this.header, data]);
    const lf = joined.indexOf(LF, Math.max(0, searchFrom - 1));
    if (lf < 0) {
      if (joined.length > MAX_HEADER) throw new ReplProtocolError('RDB payload header too long');
      this.header = Buffer.from(joined);
      return null;
    }
    if (joined[lf - 1] !== CR) throw new ReplProtocolError('RDB payload header not ended by CRLF');
    const text = joined.toString('latin1', 1, lf - 1);
    this.header = EMPTY;
    if (text.startsWith('EOF:')) {
      const mark = joined.subarray(5, lf - 1);
      if (mark.length !== EOF_MARK_LENGTH) {
        throw new ReplProtocolError(`diskless RDB mark of ${mark.length} bytes, expected ${EOF_MARK_LENGTH}`);
      }
      this.mark = Buffer.from(mark);
      this.phase = 'eof';
      emit({ type: 'start', size: null });
    } else {
      if (!/^\d+$/.test(text))
        throw new ReplProtocolError(`invalid RDB payload length "${text.slice(0, 40)}"`);
      this.remaining = Number(text);
      this.phase = 'disk';
      emit({ type: 'start', size: this.remaining });
    }
    return joined.subarray(lf + 1);
  }

  private pushDisk(data: Buffer, emit: (event: RdbTransferEvent) => void): Buffer | null {
    const take = Math.min(this.remaining, data.length);
    if (take > 0) {
      this.remaining -= take;
      this.bytes += take;
      emit({ type: 'data', chunk: take === data.length ? data : data.subarray(0, take) });
    }
    if (this.remaining > 0) return null;
    this.phase = 'done';
    emit({ type: 'end', bytes: this.bytes });
    return data.subarray(take);
  }

  private pushEof(data: Buffer, emit: (event: RdbTransferEvent) => void): Buffer | null {
    if (data.length === 0) return null;
    const held = this.held;
    // A mark that straddles the held bytes and this chunk starts inside `held`; only that window is copied.
    if (held.length > 0) {
      const window = Buffer.concat([held, data.subarray(0, EOF_MARK_LENGTH - 1)]);
      const at = window.indexOf(this.mark);
      if (at >= 0 && at < held.length) {
        this.emitData(held.subarray(0, at), emit);
        return this.finishEof(data.subarray(at + EOF_MARK_LENGTH - held.length), emit);
      }
    }
    const at = data.indexOf(this.mark);
    if (at >= 0) {
      this.emitData(held, emit);
      this.emitData(data.subarray(0, at), emit);
      return this.finishEof(data.subarray(at + EOF_MARK_LENGTH), emit);
    }
    // No mark yet: everything except the last 40 bytes received is payload.
    const total = held.length + data.length;
    const release = Math.max(0, total - EOF_MARK_LENGTH);
    const fromHeld = Math.min(release, held.length);
    this.emitData(held.subarray(0, fromHeld), emit);
    this.emitData(data.subarray(0, release - fromHeld), emit);
    const keepFromData = data.subarray(release - fromHeld);
    this.held =
      fromHeld === held.length ? Buffer.from(keepFromData) : Buffer.concat([held.subarray(fromHeld), data]);
    return null;
  }

  private emitData(chunk: Buffer, emit: (event: RdbTransferEvent) => void): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    emit({ type: 'data', chunk });
  }

  private finishEof(rest: Buffer, emit: (event: RdbTransferEvent) => void): Buffer {
    this.held = EMPTY;
    this.phase = 'done';
    emit({ type: 'end', bytes: this.bytes });
    return rest;
  }
}
