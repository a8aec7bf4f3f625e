import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { CommandEncoder } from './command-encoder.js';
import { TargetAuthError, TargetConnectError, type TargetError } from './errors.js';
import { ReplyReader } from './reply-reader.js';

/** Where and how to reach one Redis server. */
export interface Endpoint {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  username?: string;
  password?: string;
  /** bound on connect + AUTH + PING */
  connectTimeoutMs: number;
  /** name used in errors */
  label: string;
}

/** Dials, sends `AUTH` (if a password is set) and `PING`, and waits for both replies within the timeout. */
export function handshake(endpoint: Endpoint): Promise<net.Socket> {
  const { label } = endpoint;
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = endpoint.tls
      ? tls.connect({
          host: endpoint.host,
          port: endpoint.port,
          // SNI must be a hostname, never an IP address
          ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
          ...endpoint.tls,
        })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    let settled = false;
    const fail = (error: TargetError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new TargetConnectError(
            label,
            `target ${label} did not answer within ${endpoint.connectTimeoutMs} ms: check that the address is ` +
              `reachable from this worker (firewall, NAT mapping${endpoint.tls ? ', TLS' : ''}) and the server is up`,
          ),
        ),
      endpoint.connectTimeoutMs,
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        new TargetConnectError(
          label,
          tlsFailureMessage(label, err) ??
            `cannot connect to target ${label}: ${err.code ?? err.message} — check the host and port, that the ` +
              `target is running and reachable from this worker${endpoint.tls ? ', and the TLS settings' : ''}`,
          { cause: err },
        ),
      ),
    );
    socket.once('close', () =>
      fail(new TargetConnectError(label, `target ${label} closed the connection during the handshake`)),
    );

    // An ACL user is always named (it may be `nopass`); a bare empty password means "no password".
    const authenticate = endpoint.username !== undefined || (endpoint.password ?? '') !== '';
    const steps: Array<'AUTH' | 'PING'> = authenticate ? ['AUTH', 'PING'] : ['PING'];
    const reader = new ReplyReader((error) => {
      const step = steps.shift();
      if (error !== null) {
        fail(handshakeError(label, step ?? 'PING', error, authenticate));
      } else if (steps.length === 0 && !settled) {
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        resolve(socket);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.feed(chunk);
      } catch (err) {
        fail(new TargetConnectError(label, `target ${label} does not speak RESP: ${(err as Error).message}`));
      }
    });
    const encoder = new CommandEncoder();
    if (authenticate) {
      const auth = [Buffer.from('AUTH')];
      if (endpoint.username !== undefined) auth.push(Buffer.from(endpoint.username));
      auth.push(Buffer.from(endpoint.password ?? ''));
      encoder.command(auth);
    }
    encoder.command([Buffer.from('PING')]);
    for (const part of encoder.take()) socket.write(part);
  });
}

/**
 * The message for a failed TLS handshake, naming the setting to change; null for other errors. With TLS 1.3 a
 * refused client certificate arrives as an alert after the client counted the handshake as done.
 */
function tlsFailureMessage(label: string, err: NodeJS.ErrnoException): string | null {
  const code = err.code ?? '';
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.trim();
  const failed = `TLS handshake with target ${label} failed (${code}: ${reason})`;
  const trusted = 'signed by a CA the target trusts (its tls-ca-cert-file)';
  if (code.endsWith('ALERT_CERTIFICATE_REQUIRED')) {
    return `${failed}: the target requires a client certificate — set target.tls.cert and target.tls.key to one ${trusted}`;
  }
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED)$/.test(code)) {
    return `${failed}: the target refused the client certificate — set target.tls.cert and target.tls.key to one ${trusted}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${failed}: set target.tls.servername to a name the target's certificate is issued for`;
  }
  if (/SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|CERT_HAS_EXPIRED/.test(code)) {
    return `${failed}: set target.tls.ca to the CA that signed the target's certificate`;
  }
  return null;
}

function handshakeError(
  label: string,
  step: 'AUTH' | 'PING',
  reply: string,
  gavePassword: boolean,
): TargetError {
  if (step === 'AUTH') {
    if (/without any password configured/i.test(reply)) {
      return new TargetAuthError(
        label,
        `target ${label} has no password but one was given: remove the password from the plan ` +
          `(or set requirepass on the target)`,
      );
    }
    return new TargetAuthError(
      label,
      `target ${label} rejected the credentials (${reply}): check the target username/password in the plan`,
    );
  }
  if (reply.startsWith('NOAUTH')) {
    return new TargetAuthError(
      label,
      gavePassword
        ? `target ${label} still demands authentication after AUTH: check the target username/password`
        : `target ${label} requires a password: set the target password (and username for ACL users) in the plan`,
    );
  }
  if (reply.startsWith('LOADING')) {
    return new TargetConnectError(
      label,
      `target ${label} is loading its dataset: retry once it has finished`,
    );
  }
  return new TargetConnectError(label, `target ${label} did not answer PING (${reply})`);
}
