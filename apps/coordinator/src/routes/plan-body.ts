import type { Request } from 'express';
import { RequestInvalidError, UnsupportedMediaTypeError } from '../errors/public-error.js';

/** The JSON plan of a request, or the 400/415 that says how to send one. */
export function planBody(req: Request): unknown {
  if (req.body === undefined) {
    if (req.headers['content-type'] !== undefined && !req.is('application/json')) {
      throw new UnsupportedMediaTypeError('send the plan as application/json');
    }
    throw new RequestInvalidError(
      'BODY_MISSING',
      'send the plan as a JSON object (Content-Type: application/json)',
      [{ field: '(plan)', reason: 'missing request body' }],
    );
  }
  return req.body;
}
