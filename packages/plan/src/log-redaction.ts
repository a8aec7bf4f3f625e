/** Field names that always carry a secret when they reach a log call. */
const SECRET_FIELDS = [
  'password',
  'auth',
  'authorization',
  'cookie',
  'token',
  'apiToken',
  'clientKey',
  'privateKey',
  'passphrase',
  'tls.key',
  'tls.passphrase',
  'headers["set-cookie"]',
];

function secretPaths(): string[] {
  const paths: string[] = [];
  for (const field of SECRET_FIELDS) {
    for (const prefix of ['', '*.', '*.*.', '*.*.*.']) paths.push(`${prefix}${field}`);
  }
  return paths;
}

/**
 * pino `redact` settings every ShardBridge logger is created with. Secrets are references (`env:`, `file:`) in
 * plans and job data, but a resolved connection option (ioredis/tls options, an HTTP header) could still reach a
 * log call as a field; these paths censor such a field at any of the first four levels, whatever logged it.
 *
 * Only field names that always carry a secret are listed: `key` alone is a Redis key name in our logs, so a TLS
 * private key is matched as `tls.key` (and `clientKey`, `privateKey`); `pass` is a scan pass number.
 */
export const LOG_REDACTION: { readonly paths: string[]; readonly censor: string } = {
  paths: secretPaths(),
  censor: '[redacted]',
};
