/** Stable machine codes carried by every {@link RdbError}. */
export type RdbErrorCode =
  | 'RDB_BAD_MAGIC'
  | 'RDB_UNSUPPORTED_VERSION'
  | 'RDB_TRUNCATED'
  | 'RDB_CHECKSUM_MISMATCH'
  | 'RDB_CORRUPT'
  | 'RDB_UNKNOWN_TYPE'
  | 'RDB_UNKNOWN_OPCODE'
  | 'RDB_UNSUPPORTED_FEATURE';

/**
 * Base class of everything the RDB parser throws about the input.
 * `offset` is the byte offset in the RDB file where the problem was found; the message names it too,
 * so a CLI can print `error: <message>` and be useful.
 */
export class RdbError extends Error {
  readonly code: RdbErrorCode;
  readonly offset: number;

  constructor(code: RdbErrorCode, offset: number, detail: string) {
    super(`${detail} (at byte offset ${offset})`);
    this.name = new.target.name;
    this.code = code;
    this.offset = offset;
  }
}

/** The file does not start with `REDIS` followed by four ASCII digits. */
export class RdbBadMagicError extends RdbError {
  constructor(offset: number, detail: string) {
    super('RDB_BAD_MAGIC', offset, detail);
  }
}

/** The header names an RDB version this parser does not know. */
export class RdbUnsupportedVersionError extends RdbError {
  constructor(
    offset: number,
    readonly version: number,
    readonly highestKnown: number,
  ) {
    super(
      'RDB_UNSUPPORTED_VERSION',
      offset,
      `RDB version ${version} is not supported (supported: 1..${highestKnown})`,
    );
  }
}

/** The input ended before the EOF opcode (and checksum) were read. */
export class RdbTruncatedError extends RdbError {
  constructor(offset: number, detail: string) {
    super('RDB_TRUNCATED', offset, detail);
  }
}

/** The CRC64 trailer does not match the bytes read. */
export class RdbChecksumMismatchError extends RdbError {
  constructor(offset: number, expected: bigint, actual: bigint) {
    super(
      'RDB_CHECKSUM_MISMATCH',
      offset,
      `RDB checksum mismatch: file says 0x${expected.toString(16).padStart(16, '0')}, ` +
        `content hashes to 0x${actual.toString(16).padStart(16, '0')}`,
    );
  }
}

/** A structure inside the file is inconsistent (bad length, bad encoding, integrity check failed). */
export class RdbCorruptError extends RdbError {
  constructor(offset: number, detail: string) {
    super('RDB_CORRUPT', offset, detail);
  }
}

/** A key's type byte is not an RDB value type this parser knows. */
export class RdbUnknownTypeError extends RdbError {
  constructor(
    offset: number,
    readonly typeByte: number,
  ) {
    super('RDB_UNKNOWN_TYPE', offset, `unknown RDB value type ${typeByte}`);
  }
}

/** A byte in the opcode range (240..255) that no known Redis or Valkey writes. */
export class RdbUnknownOpcodeError extends RdbError {
  constructor(
    offset: number,
    readonly opcode: number,
  ) {
    super('RDB_UNKNOWN_OPCODE', offset, `unknown RDB opcode ${opcode}`);
  }
}

/** The file uses a format the server itself no longer loads (pre-GA module or function encodings). */
export class RdbUnsupportedFeatureError extends RdbError {
  constructor(offset: number, detail: string) {
    super('RDB_UNSUPPORTED_FEATURE', offset, detail);
  }
}
