import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

/**
 * A password in a plan is either a literal (fine for a local `run`) or a reference resolved where the
 * connection is made, so the secret never travels in job data: `env:NAME` or `file:/path` (trailing newline
 * trimmed).
 */
export class SecretReferenceError extends Error {
  readonly code: string = 'PLAN_SECRET_UNRESOLVED';
  override name = 'SecretReferenceError';
}

/** A reference outside what {@link SECRET_REFERENCES_ENV} allows on this host. */
export class SecretReferenceNotAllowedError extends SecretReferenceError {
  override readonly code = 'PLAN_SECRET_NOT_ALLOWED';
  override name = 'SecretReferenceNotAllowedError';
}

/**
 * Environment variable that limits which references this host resolves: comma-separated patterns such as
 * `env:SB_*,file:/run/secrets/*` (`*` matches any run of characters, `/` included). Unset = every reference.
 * Whoever can submit a plan (API token) or write the queue Redis chooses the reference and the address its value
 * is sent to as a password; the allowlist keeps every other variable and file of the host out of reach.
 */
export const SECRET_REFERENCES_ENV = 'SHARDBRIDGE_SECRET_REFERENCES';

function allowedBy(reference: string, patterns: string): boolean {
  return patterns
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern.length > 0)
    .some((pattern) => {
      const regex = new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      return regex.test(reference);
    });
}

function checkAllowed(reference: string, field: string): void {
  const patterns = process.env[SECRET_REFERENCES_ENV];
  if (patterns === undefined || patterns.trim() === '') return;
  if (!allowedBy(reference, patterns)) {
    throw new SecretReferenceNotAllowedError(
      `${field}: ${reference} is not among the references this host resolves (${SECRET_REFERENCES_ENV}=${patterns})`,
    );
  }
}

export function resolveSecret(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    checkAllowed(value, field);
    const resolved = process.env[name];
    if (resolved === undefined) {
      throw new SecretReferenceError(`${field}: environment variable ${name} is not set on this host`);
    }
    return resolved;
  }
  if (value.startsWith('file:')) {
    // Matched on the normalised path: `file:/run/secrets/../../etc/shadow` is /etc/shadow.
    const path = resolvePath(value.slice(5));
    checkAllowed(`file:${path}`, field);
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new SecretReferenceError(`${field}: cannot read secret file ${path} (${reason})`);
    }
  }
  return value;
}
