import { describe, expect, it } from 'vitest';
import { classifyTlsError, describeTlsError, isSharedTlsFailure, tlsFix } from './tls-failure.js';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('classifyTlsError', () => {
  it.each([
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'client-cert-required'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'client-cert-rejected'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'client-cert-rejected'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'server-untrusted'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'server-untrusted'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'name-mismatch'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'handshake'],
    ['ECONNREFUSED', null],
  ])('%s is %s', (code, failure) => {
    expect(classifyTlsError(coded(code))).toBe(failure);
  });

  it('is null for errors without a code', () => {
    expect(classifyTlsError(new Error('Connection is closed.'))).toBeNull();
    expect(classifyTlsError(undefined)).toBeNull();
  });
});

describe('tlsFix and describeTlsError', () => {
  it('names the plan fields of the side', () => {
    expect(tlsFix('client-cert-required', 'target')).toContain('set target.tls.cert and target.tls.key');
    expect(tlsFix('server-untrusted', 'source')).toContain('set source.tls.ca');
    expect(tlsFix('name-mismatch', 'source')).toContain('set source.tls.servername');
  });

  it('only certificate and CA problems are shared by every node', () => {
    expect(isSharedTlsFailure('client-cert-required')).toBe(true);
    expect(isSharedTlsFailure('server-untrusted')).toBe(true);
    expect(isSharedTlsFailure('name-mismatch')).toBe(false);
    expect(isSharedTlsFailure('handshake')).toBe(false);
  });

  it("cuts OpenSSL's reason out of its long message", () => {
    const message =
      '80EC0B5E:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/rec.c:1601:SSL alert number 116\n';
    expect(describeTlsError(coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message))).toBe(
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required',
    );
    expect(describeTlsError(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'))).toBe(
      'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
    );
  });
});
