/**
 * The byte stream is not valid RESP. `offset` is the stream position (bytes since the decoder was created or
 * last reset) of the first byte that could not be accepted, so it can be matched against a capture of the link.
 * A decoder that threw this is poisoned: every later `push` throws the same error until `reset()`.
 */
export class RespProtocolError extends Error {
  readonly code = 'RESP_PROTOCOL';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at stream offset ${offset}`);
    this.name = 'RespProtocolError';
  }
}

/** A decoded value is not a command (a non-empty array of non-null bulk strings). */
export class RespNotACommandError extends Error {
  readonly code = 'RESP_NOT_A_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'RespNotACommandError';
  }
}

/** A value cannot be written as RESP (e.g. a simple string containing CR or LF). */
export class RespEncodeError extends Error {
  readonly code = 'RESP_ENCODE';
  constructor(message: string) {
    super(message);
    this.name = 'RespEncodeError';
  }
}
