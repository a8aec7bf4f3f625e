import { describe, expect, it } from 'vitest';
import { classifySocketError } from './connect.js';

function socketError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('classifySocketError', () => {
  it('a reset during the TLS handshake of an accepted connection is a lost link, retried', () => {
    const err = socketError(
      'ECONNRESET',
      'Client network socket disconnected before secure TLS connection was established',
    );
    const error = classifySocketError(err, '10.0.0.5:6379', false, 5000, true);
    expect(error).toMatchObject({ code: 'REPL_CONNECTION_CLOSED', retryable: true, reachedServer: true });
    expect(error.message).toContain('10.0.0.5:6379');
  });

  it('a refused connection never reached the server; an untrusted certificate still fails without a retry', () => {
    expect(
      classifySocketError(socketError('ECONNREFUSED', 'connect ECONNREFUSED'), 'h:1', false, 5000),
    ).toMatchObject({ code: 'REPL_CONNECT_REFUSED', reachedServer: false });
    const untrusted = socketError(
      'SELF_SIGNED_CERT_IN_CHAIN',
      'self-signed certificate in certificate chain',
    );
    expect(classifySocketError(untrusted, 'h:1', false, 5000, true)).toMatchObject({
      code: 'REPL_TLS_HANDSHAKE',
      retryable: false,
    });
  });
});
