import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsSpec } from './plan-schema.js';
import { resolveSecret as defaultResolveSecret, SecretReferenceError } from './secret-reference.js';

/** A plan's `tls` turned into what `tls.connect` takes. */
export interface ResolvedTls {
  enabled: boolean;
  /** `ca`, `cert`, `key` as PEM text, `servername`, `rejectUnauthorized` — only those the plan set */
  options: ConnectionOptions;
}

/**
 * Resolves a plan's `tls` (`field` names it for errors, e.g. `source.tls`): `ca` and `cert` are PEM text or
 * `file:/path`; `key` goes through `resolveSecret` (PEM literal, `file:/path`, `env:NAME`). Throws
 * SecretReferenceError when a file cannot be read.
 */
export function resolveTls(
  spec: TlsSpec | undefined,
  field: string,
  resolveSecret: (value: string | undefined, field: string) => string | undefined = defaultResolveSecret,
): ResolvedTls {
  if (spec === undefined || spec === false) return { enabled: false, options: {} };
  if (spec === true) return { enabled: true, options: {} };
  const options: ConnectionOptions = {};
  if (spec.ca !== undefined) options.ca = pem(spec.ca, `${field}.ca`);
  if (spec.cert !== undefined) options.cert = pem(spec.cert, `${field}.cert`);
  if (spec.key !== undefined) options.key = resolveSecret(spec.key, `${field}.key`);
  if (spec.servername !== undefined) options.servername = spec.servername;
  if (spec.rejectUnauthorized !== undefined) options.rejectUnauthorized = spec.rejectUnauthorized;
  return { enabled: true, options };
}

function pem(value: string, field: string): string {
  if (!value.startsWith('file:')) return value;
  const path = value.slice(5);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SecretReferenceError(`${field}: cannot read ${path} (${reason})`);
  }
}
