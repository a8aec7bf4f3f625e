import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import {
  ReplConnectRefusedError,
  ReplConnectTimeoutError,
  ReplConnectionClosedError,
  ReplTlsHandshakeError,
  type ReplicationError,
} from './errors.js';

/** Keep-alive probes start after this much idle time; the master's own PINGs arrive every 10 s anyway. */
const KEEPALIVE_INITIAL_DELAY_MS = 15_000;

/**
 * Opens a plain or TLS socket to the master with TCP keep-alive and no-delay set. The returned socket is
 * connecting; `ready` is the event that means it can carry the handshake ('connect' or 'secureConnect').
 */
export function openSocket(
  host: string,
  port: number,
  tlsOptions: ConnectionOptions | undefined,
): { socket: Socket; ready: 'connect' | 'secureConnect' } {
  let socket: Socket;
  let ready: 'connect' | 'secureConnect';
  if (tlsOptions) {
    socket = tls.connect({
      host,
      port,
      servername: net.isIP(host) === 0 ? host : undefined,
      ...tlsOptions,
    });
    ready = 'secureConnect';
  } else {
    socket = net.connect({ host, port });
    ready = 'connect';
  }
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
  return { socket, ready };
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/**
 * Alerts a server sends about the client's certificate. With TLS 1.3 the server checks it after the client
 * counts the handshake as done, so they arrive on a "connected" socket; retrying cannot help.
 */
const CLIENT_CERT_ALERT =
  /ALERT_(CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED)$/;

/** OpenSSL's reason out of its `…:SSL routines:<function>:<reason>:<file>…` message. */
function opensslReason(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.trim();
}

/** A peer or something in between ended an accepted connection: a lost link, never a configuration answer. */
const LINK_LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Turns a socket error into the replication error that tells the operator what to check. `connected`: the link
 * was ready for the handshake (TLS done); `reachedServer`: the TCP connection was accepted (maybe before TLS).
 */
export function classifySocketError(
  err: NodeJS.ErrnoException,
  label: string,
  connected: boolean,
  connectTimeoutMs: number,
  reachedServer = connected,
): ReplicationError {
  const code = err.code ?? 'unknown';
  if (CLIENT_CERT_ALERT.test(code)) {
    // The replication link is always the source's.
    const fix = code.endsWith('CERTIFICATE_REQUIRED')
      ? 'the server requires a client certificate: set source.tls.cert and source.tls.key'
      : 'the server refused the client certificate: set source.tls.cert and source.tls.key to a valid one';
    return new ReplTlsHandshakeError(
      `TLS handshake with ${label} failed (${code}: ${opensslReason(err.message)}): ${fix} (a certificate` +
        ' signed by a CA the server trusts, its tls-ca-cert-file)',
      { cause: err },
    );
  }
  if (reachedServer && LINK_LOST.has(code)) {
    // A reset during the TLS handshake reads as "socket disconnected before secure TLS connection": it is a lost
    // flow (NAT, load balancer), not a TLS setting, so it is retried like any lost link.
    return new ReplConnectionClosedError(
      `connection to ${label} was reset (${code}) ${connected ? '' : 'during the TLS handshake '}by the master or` +
        ' the network (a NAT gateway or load balancer dropping the flow, a restart); reconnecting resumes',
      { cause: err, reachedServer },
    );
  }
  if (!connected) {
    if (code === 'ECONNREFUSED') {
      return new ReplConnectRefusedError(
        `connection to ${label} refused (ECONNREFUSED): nothing listens there — is Redis running and the port` +
          ' right? behind NAT, map the announced address to a reachable one',
        { cause: err },
      );
    }
    if (code === 'ETIMEDOUT') {
      return new ReplConnectTimeoutError(
        `could not connect to ${label} within ${connectTimeoutMs} ms (ETIMEDOUT) — is the address reachable from` +
          ' this host? behind NAT, map the announced address to a reachable one',
        { cause: err },
      );
    }
    if (UNREACHABLE.has(code)) {
      return new ReplConnectRefusedError(
        `cannot reach ${label} (${code}): check the host name and routing from this host; behind NAT, map the` +
          ' announced address to a reachable one',
        { cause: err },
      );
    }
    if (code.startsWith('ERR_TLS') || /certificate|ssl|tls/i.test(err.message)) {
      return new ReplTlsHandshakeError(
        `TLS handshake with ${label} failed (${code}: ${opensslReason(err.message)}): check the tls options` +
          ' (ca, servername) and that the port speaks TLS',
        { cause: err },
      );
    }
  }
  return new ReplConnectionClosedError(
    `connection to ${label} failed (${code}: ${err.message})` +
      (connected ? '' : ' while connecting — is the address reachable from this host?'),
    { cause: err, reachedServer },
  );
}
