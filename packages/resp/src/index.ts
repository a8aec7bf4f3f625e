export type { RespFrame, RespValue } from './types.js';
export { RespDecoder, type RespDecoderOptions } from './decoder.js';
export { encodeCommand, encodeValue } from './encoder.js';
export { frameToArgs } from './frame-to-args.js';
export { RespProtocolError, RespNotACommandError, RespEncodeError } from './errors.js';
