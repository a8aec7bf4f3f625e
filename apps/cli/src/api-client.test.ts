import { describe, expect, it } from 'vitest';
import { ApiClient, problemToError } from './api-client.js';
import { EXIT_FAILURE, EXIT_USAGE } from './cli-error.js';

describe('problemToError: a coordinator refusal as the operator reads it', () => {
  it('is one line: the detail, (CODE), then the CLI command that helps', () => {
    const error = problemToError(
      404,
      { code: 'PLAN_NOT_FOUND', detail: 'no plan with id "x"' },
      'http://h:1',
    );
    expect(error.message).toBe(
      'no plan with id "x" (PLAN_NOT_FOUND); list the plans with `shardbridge plans`',
    );
    expect(error.exitCode).toBe(EXIT_USAGE);
  });

  it('prints per-field errors once, not again through the detail that repeats them', () => {
    const error = problemToError(
      400,
      {
        code: 'PLAN_INVALID',
        title: 'Invalid plan',
        detail: 'invalid plan: target: is required',
        errors: [{ field: 'target', reason: 'is required' }],
      },
      'http://h:1',
    );
    expect(error.message).toBe('Invalid plan: target: is required (PLAN_INVALID)');
    expect(error.message.match(/is required/g)).toHaveLength(1);
  });

  it('exits 1 for a preflight refusal, a conflict or a server error; 2 for a wrong request', () => {
    expect(problemToError(422, { code: 'PREFLIGHT_FAILED', detail: 'd' }, 'u').exitCode).toBe(EXIT_FAILURE);
    expect(problemToError(409, { code: 'PLAN_CUT_OVER', detail: 'd' }, 'u').exitCode).toBe(EXIT_FAILURE);
    expect(problemToError(503, { code: 'QUEUE_UNAVAILABLE', detail: 'd' }, 'u').exitCode).toBe(EXIT_FAILURE);
    expect(problemToError(400, { code: 'REQUEST_INVALID', detail: 'd' }, 'u').exitCode).toBe(EXIT_USAGE);
    expect(problemToError(502, 'not json', 'http://h:1').message).toBe(
      'the coordinator at http://h:1 answered HTTP 502 (HTTP_502)',
    );
  });

  it('refuses a base URL without a scheme, naming --api and the expected form', async () => {
    const failure = await new ApiClient('127.0.0.1:27300', undefined)
      .request('GET', '/v1/plans')
      .catch((e) => e);
    expect(failure.message).toMatch(/^--api 127\.0\.0\.1:27300: .*http\(s\):\/\/host:port/);
    expect(failure.exitCode).toBe(EXIT_USAGE);
  });
});
