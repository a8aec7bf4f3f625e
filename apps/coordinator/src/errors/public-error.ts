/** One problem in a request body: the dotted field path and why it is wrong. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * An error whose title and detail are safe to send to the client. Everything else reaching the error handler is
 * answered with a generic 500, so a message that was never meant to be public cannot leak by accident.
 */
export class PublicError extends Error {
  override name = 'PublicError';
  constructor(
    /** HTTP status of the answer */
    readonly status: number,
    /** stable machine code, also the last part of the problem `type` */
    readonly code: string,
    /** short summary, the same for every occurrence of `code` */
    readonly title: string,
    /** this occurrence, in words */
    readonly detail: string,
    /** per-field problems (validation errors) */
    readonly errors?: FieldProblem[],
    /** structured, public facts about this occurrence */
    readonly details?: Record<string, unknown>,
    /** extra top-level members of the problem document (RFC 9457 extensions), e.g. `problems` of a preflight */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
  }
}

export class RequestInvalidError extends PublicError {
  override name = 'RequestInvalidError';
  constructor(code: string, detail: string, errors?: FieldProblem[]) {
    super(400, code, 'Invalid request', detail, errors);
  }
}

export class UnauthorizedError extends PublicError {
  override name = 'UnauthorizedError';
  constructor(detail: string) {
    super(401, 'UNAUTHORIZED', 'Authentication required', detail);
  }
}

export class NotFoundError extends PublicError {
  override name = 'NotFoundError';
  constructor(code: string, detail: string) {
    super(404, code, 'Not found', detail);
  }
}

export class ConflictError extends PublicError {
  override name = 'ConflictError';
  constructor(code: string, detail: string) {
    super(409, code, 'Conflict with the current state', detail);
  }
}

export class UnsupportedMediaTypeError extends PublicError {
  override name = 'UnsupportedMediaTypeError';
  constructor(detail: string) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', detail);
  }
}

/** The plan is well-formed but its source cannot be mapped to shards (the discovery error's code is kept). */
/** A client sent more mutating requests than the rate limit allows (`Retry-After` says when to retry). */
export class TooManyRequestsError extends PublicError {
  override name = 'TooManyRequestsError';
  constructor(detail: string) {
    super(429, 'RATE_LIMITED', 'Too many requests', detail);
  }
}

/** The request body is larger than the coordinator accepts. */
export class PayloadTooLargeError extends PublicError {
  override name = 'PayloadTooLargeError';
  constructor(limitBytes: number | undefined) {
    super(
      413,
      'BODY_TOO_LARGE',
      'Payload too large',
      limitBytes === undefined
        ? 'the request body is too large'
        : `the request body exceeds ${limitBytes} bytes (the coordinator's body limit); a plan needs a few KiB`,
    );
  }
}

export class UnprocessablePlanError extends PublicError {
  override name = 'UnprocessablePlanError';
  constructor(code: string, detail: string, details?: Record<string, unknown>) {
    super(422, code, 'Source cannot be planned', detail, undefined, details);
  }
}

/**
 * The plan would fail: preflight found problems (unreachable or unmapped nodes, refused AUTH, forbidden PSYNC, an
 * unwritable target). `problems` holds each with its fix; submitting with `"force": true` skips this refusal.
 */
export class PreflightFailedError extends PublicError {
  override name = 'PreflightFailedError';
  constructor(
    problems: ReadonlyArray<{ side: string; address: string; code: string; message: string; fix: string }>,
  ) {
    super(
      422,
      'PREFLIGHT_FAILED',
      'Preflight failed',
      // Each problem with its fix, so a client that prints only the detail still tells what to change.
      `preflight found ${problems.length} problem(s): ` +
        problems.map((problem) => `${problem.message} (fix: ${problem.fix})`).join('; '),
      undefined,
      undefined,
      {
        problems: problems.map(({ side, address, code, message, fix }) => ({
          side,
          address,
          code,
          message,
          fix,
        })),
      },
    );
  }
}

/** The queue's Redis, where every plan and job lives, does not answer. */
export class QueueUnavailableError extends PublicError {
  override name = 'QueueUnavailableError';
  constructor() {
    super(503, 'QUEUE_UNAVAILABLE', 'Queue unavailable', 'the queue Redis does not answer; try again later');
  }
}
