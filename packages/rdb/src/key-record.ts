import { layoutRestorePayload, sealRestorePayload } from './restore-payload.js';
import type { RdbKeyRecord, RdbValue } from './types.js';

/**
 * The parser's {@link RdbKeyRecord}. The payload bytes are copied out of the input when the key is
 * parsed (so input chunks are never retained), but its CRC-64 is computed on first access of
 * `restorePayload`: consumers that only read `value` do not pay for hashing every value.
 */
export class ParsedKeyRecord implements RdbKeyRecord {
  readonly value?: RdbValue;
  private readonly payload: Buffer;
  private sealed = false;

  constructor(
    readonly db: number,
    readonly key: Buffer,
    readonly expireAt: number | null,
    readonly idle: number | null,
    readonly freq: number | null,
    readonly rdbVersion: number,
    typeByte: number,
    valueBytes: Uint8Array,
    value: RdbValue | undefined,
  ) {
    this.payload = layoutRestorePayload(typeByte, valueBytes, rdbVersion);
    if (value) this.value = value;
  }

  get restorePayload(): Buffer {
    if (!this.sealed) {
      sealRestorePayload(this.payload);
      this.sealed = true;
    }
    return this.payload;
  }
}
