import { readFileSync } from 'node:fs';

/**
 * A password in a plan is either a literal (fine for a local `run`) or a reference resolved where the
 * connection is made, so the secret never travels in job data: `env:NAME` or `file:/path` (trailing newline
 * trimmed).
 */
export class SecretReferenceError extends Error {
  readonly code = 'PLAN_SECRET_UNRESOLVED';
  override name = 'SecretReferenceError';
}

export function resolveSecret(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const resolved = process.env[name];
    if (resolved === undefined) {
      throw new SecretReferenceError(`${field}: environment variable ${name} is not set on this host`);
    }
    return resolved;
  }
  if (value.startsWith('file:')) {
    const path = value.slice(5);
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new SecretReferenceError(`${field}: cannot read secret file ${path} (${reason})`);
    }
  }
  return value;
}
