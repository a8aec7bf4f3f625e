export type { ReplicaClientOptions, ReplicaHandlers } from './types.js';
export { ReplicaClient } from './replica-client.js';
export {
  ReplicationError,
  ReplConnectTimeoutError,
  ReplConnectRefusedError,
  ReplTlsHandshakeError,
  ReplAuthFailedError,
  ReplNoAuthError,
  ReplPsyncRefusedError,
  ReplReadTimeoutError,
  ReplConnectionClosedError,
  ReplProtocolError,
} from './errors.js';
export { RdbTransfer, EOF_MARK_LENGTH, type RdbTransferEvent } from './rdb-transfer.js';
export { ReplicationStream, type StreamEvent } from './replication-stream.js';
export {
  handshakeSteps,
  psyncCommand,
  parsePsyncReply,
  type HandshakeStep,
  type PsyncReply,
} from './handshake.js';
