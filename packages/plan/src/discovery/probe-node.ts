import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import type { HostPort } from '../host-port.js';
import { classifyTlsError, describeTlsError, type TlsFailure } from './tls-failure.js';

/** Options for {@link openNode}. */
export interface NodeLinkOptions {
  /** ACL user; omitted = the default user */
  username?: string;
  /** resolved password (not a reference) */
  password?: string;
  /** connect with TLS */
  tls: boolean;
  /**
   * Extra TLS settings (CA, client certificate). `servername` defaults to the announced host when it is a name,
   * so a certificate issued for the announced name still verifies behind a NAT mapping.
   * @defaultValue `{}`
   */
  tlsOptions?: ConnectionOptions;
  /** Host to verify the certificate against when it differs from the dialled one. */
  servername?: string;
  /** Bound, in ms, on the TCP/TLS connect and on each command's reply. */
  timeoutMs: number;
  /** Told how long the TCP (and TLS) connect took, in ms, before AUTH is sent. */
  onConnected?: (connectMs: number) => void;
}

/**
 * Why a node could not be used: it did not answer, it refused the credentials, or the TLS handshake failed
 * (`tlsFailure` says how; like credentials, TLS settings are shared by every node of a side).
 */
export class NodeProbeError extends Error {
  override name = 'NodeProbeError';
  constructor(
    readonly kind: 'unreachable' | 'auth' | 'tls',
    message: string,
    readonly tlsFailure?: TlsFailure,
  ) {
    super(message);
  }
}

/** A TLS error (seen by the client's error listener or thrown) as a `tls` NodeProbeError, else null. */
function tlsProbeError(...errors: unknown[]): NodeProbeError | null {
  for (const error of errors) {
    const failure = classifyTlsError(error);
    if (failure)
      return new NodeProbeError('tls', `TLS handshake failed (${describeTlsError(error as Error)})`, failure);
  }
  return null;
}

/** An authenticated link to one node. `close` is idempotent and must always be called. */
export interface NodeLink {
  call(command: string, ...args: string[]): Promise<unknown>;
  close(): void;
}

const AUTH_REFUSED = /^(WRONGPASS|NOAUTH|ERR invalid (username-)?password|ERR AUTH .* without any password)/i;

/**
 * Connects to `address`, authenticates (AUTH [username] password, when either is given) and checks that the node
 * answers PING. Throws {@link NodeProbeError}: `auth` when the server refuses the credentials or wants some,
 * `tls` when the TLS handshake fails, `unreachable` for everything else (refused, unresolvable, timed out, not
 * speaking RESP). The returned link fails fast: no retries, no offline queue, every reply bounded by `timeoutMs`.
 */
export async function openNode(address: HostPort, options: NodeLinkOptions): Promise<NodeLink> {
  const servername = options.servername ?? (isIP(address.host) ? undefined : address.host);
  const client = new Redis({
    host: address.host,
    port: address.port,
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    // Our own AUTH and PING below stand in for the ready check, so their errors reach us unwrapped.
    enableReadyCheck: false,
    // CLIENT SETINFO would cost a round trip before connect() resolves (a whole timeout on a silent node) and
    // fail with NOAUTH anyway, since AUTH is ours to send after it.
    disableClientInfo: true,
    ...(options.tls ? { tls: { ...(servername ? { servername } : {}), ...options.tlsOptions } } : {}),
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  const link: NodeLink = {
    call: (command, ...args) => client.call(command, ...args),
    close: () => client.disconnect(),
  };
  const started = performance.now();
  try {
    await client.connect();
    options.onConnected?.(Math.round((performance.now() - started) * 10) / 10);
  } catch (error) {
    link.close();
    throw tlsProbeError(lastError, error) ?? new NodeProbeError('unreachable', reasonOf(lastError ?? error));
  }
  try {
    if (options.username !== undefined || options.password !== undefined) {
      const credentials = [options.username, options.password ?? ''].filter((part) => part !== undefined);
      await client.call('AUTH', ...credentials);
    }
    const pong = await client.call('PING');
    if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
    return link;
  } catch (error) {
    link.close();
    // TLS 1.3: a refused client certificate closes a link that already counted as connected.
    const tls = tlsProbeError(lastError, error);
    if (tls) throw tls;
    const reason = reasonOf(error);
    throw new NodeProbeError(AUTH_REFUSED.test(reason) ? 'auth' : 'unreachable', reason);
  }
}

/** Parses INFO text into field → value (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
