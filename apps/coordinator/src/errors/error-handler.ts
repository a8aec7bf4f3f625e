import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { planIssuesOf, PlanValidationError } from '@shardbridge/plan';
import { z } from 'zod';
import { isUnplannable } from '../shard-discovery.js';
import {
  PayloadTooLargeError,
  PublicError,
  QueueUnavailableError,
  UnprocessablePlanError,
  type FieldProblem,
} from './public-error.js';

/** RFC 9457 problem details, plus ShardBridge's `code` and the per-field `errors` of a validation failure. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  errors?: FieldProblem[];
  /** structured facts of a discovery failure (addresses, missing slot ranges); never a secret */
  details?: Record<string, unknown>;
  /** RFC 9457 extension members, e.g. `problems` of PREFLIGHT_FAILED */
  [extension: string]: unknown;
}

/** Called once per answered error, for the error counter of /metrics. */
export type ErrorObserver = (problem: Problem) => void;

function problemType(code: string): string {
  return `urn:shardbridge:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Errors body-parser raises carry `type` and `status`; they describe the request, so they are public. */
function bodyParserError(error: unknown): PublicError | null {
  if (typeof error !== 'object' || error === null) return null;
  const { type, status, limit } = error as { type?: unknown; status?: unknown; limit?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number') return null;
  switch (type) {
    case 'entity.parse.failed':
      return new PublicError(400, 'BODY_NOT_JSON', 'Invalid request', 'request body is not valid JSON');
    case 'entity.too.large':
      return new PayloadTooLargeError(typeof limit === 'number' ? limit : undefined);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new PublicError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'send UTF-8 JSON');
    case 'request.aborted':
      return new PublicError(400, 'REQUEST_ABORTED', 'Invalid request', 'the request body was cut short');
    default:
      return status >= 400 && status < 500
        ? new PublicError(status, 'BAD_REQUEST', 'Invalid request', 'the request body could not be read')
        : null;
  }
}

/**
 * ioredis gives up on a command while the queue Redis is down with these (its error classes are not exported).
 * Any other Redis error (a script error, WRONGTYPE) stays an internal error.
 */
function queueDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as NodeJS.ErrnoException;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.message === 'Connection is closed.' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET'
  );
}

/** Maps any error to a public one; null = internal (answered 500 with a generic detail). */
function toPublic(error: unknown): PublicError | null {
  if (error instanceof PublicError) return error;
  if (error instanceof PlanValidationError) {
    return new PublicError(400, error.code, 'Invalid plan', error.message, error.issues);
  }
  if (error instanceof z.ZodError) {
    // The same field/reason wording as a plan's problems, so clients print both alike.
    const errors = planIssuesOf(error.issues, '(body)');
    return new PublicError(
      400,
      'REQUEST_INVALID',
      'Invalid request',
      'the request does not match its schema',
      errors,
    );
  }
  if (isUnplannable(error)) return new UnprocessablePlanError(error.code, error.message, error.details);
  if (queueDown(error)) return new QueueUnavailableError();
  return bodyParserError(error);
}

function instanceOf(req: Request): string {
  // The query string may carry the UI token: never echo it.
  return req.originalUrl.split('?')[0];
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** The one error handler: public errors as they are, everything else as an opaque 500 (logged with its stack). */
export function errorHandler(logger: Logger, observe?: ErrorObserver): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toPublic(error);
    if (!known) logger.error({ err: error, path: instanceOf(req) }, 'request failed');
    const failure =
      known ??
      new PublicError(500, 'INTERNAL', 'Internal error', 'the coordinator failed to handle the request');
    if (failure.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="shardbridge"');
    const problem: Problem = {
      type: problemType(failure.code),
      title: failure.title,
      status: failure.status,
      detail: failure.detail,
      instance: instanceOf(req),
      code: failure.code,
      ...(failure.errors ? { errors: failure.errors } : {}),
      ...(failure.details ? { details: failure.details } : {}),
      ...failure.extensions,
    };
    observe?.(problem);
    sendProblem(res, problem);
  };
}

/** Answers unknown routes as problems too, so every error a client sees has the same shape. */
export function notFoundHandler(observe?: ErrorObserver): (req: Request, res: Response) => void {
  return (req, res) => {
    const problem: Problem = {
      type: problemType('ROUTE_NOT_FOUND'),
      title: 'Not found',
      status: 404,
      detail: `no route for ${req.method} ${instanceOf(req)}`,
      instance: instanceOf(req),
      code: 'ROUTE_NOT_FOUND',
    };
    observe?.(problem);
    sendProblem(res, problem);
  };
}
