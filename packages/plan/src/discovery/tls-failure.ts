/**
 * What went wrong in a TLS handshake, told from Node's error code (`ERR_SSL_*` for alerts the server sent and
 * local OpenSSL errors, `ERR_TLS_*` and the X.509 verification codes for checks of the server's certificate).
 * With TLS 1.3 the server checks the client certificate after the client considers the handshake done, so a
 * refused client certificate arrives as an alert on an already "connected" socket.
 */
export type TlsFailure =
  /** the server requires a client certificate and none was sent */
  | 'client-cert-required'
  /** the server did not accept the client certificate sent (unknown CA, bad or expired certificate) */
  | 'client-cert-rejected'
  /** the server's certificate is not signed by a trusted CA (self-signed, unknown issuer, expired) */
  | 'server-untrusted'
  /** the server's certificate is not issued for the name verified */
  | 'name-mismatch'
  /** anything else in TLS: often a port that does not speak TLS */
  | 'handshake';

const SERVER_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
]);

/**
 * Failures caused by settings every node of a side shares (client certificate, CA): trying another seed or
 * address cannot help, so they are reported at once. A name mismatch or a failed handshake can be one address's.
 */
export function isSharedTlsFailure(failure: TlsFailure | undefined): boolean {
  return (
    failure === 'client-cert-required' || failure === 'client-cert-rejected' || failure === 'server-untrusted'
  );
}

/** The failure an error stands for, or null when it is not a TLS error. */
export function classifyTlsError(error: unknown): TlsFailure | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (/ALERT_CERTIFICATE_REQUIRED$/.test(code)) return 'client-cert-required';
  if (
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE)$/.test(
      code,
    )
  )
    return 'client-cert-rejected';
  if (SERVER_UNTRUSTED.has(code)) return 'server-untrusted';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'name-mismatch';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'handshake';
  return null;
}

/** What to change in the plan for `failure` on `side` (`source` or `target`). */
export function tlsFix(failure: TlsFailure, side: string): string {
  switch (failure) {
    case 'client-cert-required':
      return `the server requires a client certificate: set ${side}.tls.cert and ${side}.tls.key (file: or env: references) to one signed by a CA the server trusts (its tls-ca-cert-file)`;
    case 'client-cert-rejected':
      return `the server refused the client certificate: set ${side}.tls.cert and ${side}.tls.key to a valid one signed by a CA the server trusts (its tls-ca-cert-file)`;
    case 'server-untrusted':
      return `set ${side}.tls.ca to the CA that signed the server's certificate`;
    case 'name-mismatch':
      return `set ${side}.tls.servername to a name the server's certificate is issued for (the dialled address differs from it)`;
    case 'handshake':
      return `check that the port speaks TLS and ${side}.tls (ca, cert, key, servername)`;
  }
}

/** `CODE: reason` of a TLS error, the reason cut from OpenSSL's `…:SSL routines:<function>:<reason>:<file>…` form. */
export function describeTlsError(error: Error & { code?: unknown }): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message.trim();
  return typeof error.code === 'string' ? `${error.code}: ${reason}` : reason;
}
