/** A shard that could not be verified: the message names the shard, the node and what to check. */
export class VerifyError extends Error {
  override name = 'VerifyError';
  constructor(
    /** `VERIFY_SOURCE_UNREACHABLE`, `VERIFY_TARGET_UNREACHABLE`, `VERIFY_READ_FAILED`, `VERIFY_JOB_INVALID` */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
