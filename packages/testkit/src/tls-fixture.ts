import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { trackDir, untrackDir } from './process-registry.js';
import { startRedis, type RedisServer, type StartRedisOptions } from './redis-server.js';
import { writeCertificates } from './test-pki.js';

/** Options for {@link startTlsRedis}: a server's own plus how its TLS listener is set up. */
export interface StartTlsRedisOptions extends StartRedisOptions {
  /**
   * `tls-auth-clients yes`: the TLS port only accepts clients presenting a certificate signed by the fixture's CA
   * ({@link TlsRedis.clientCert}).
   * @defaultValue `false`
   */
  requireClientCert?: boolean;
  /**
   * Issue the server certificate for this DNS name only (no IP address, no `localhost`), so a client that dials
   * 127.0.0.1 verifies it only when it sends this name as `servername`.
   * @defaultValue a certificate valid for `IP:127.0.0.1` and `DNS:localhost`
   */
  certificateName?: string;
}

/** A Redis that also accepts TLS, with a throwaway CA that signed its certificate and a client certificate. */
export interface TlsRedis {
  readonly server: RedisServer;
  /** Loopback port that speaks TLS; {@link RedisServer.port} stays plain TCP (admin clients use it). */
  readonly tlsPort: number;
  /**
   * The CA certificate (PEM) to trust as `ca`. It signed the server certificate (valid for `IP:127.0.0.1` and
   * `DNS:localhost`, or only for {@link StartTlsRedisOptions.certificateName}) and {@link clientCert}.
   */
  readonly ca: Buffer;
  /** A client certificate (PEM) signed by {@link ca}; required by the TLS port with `requireClientCert`. */
  readonly clientCert: Buffer;
  /** The private key (PEM) of {@link clientCert}. */
  readonly clientKey: Buffer;
  /** Paths of the same PEM files, for `file:` references; they are removed by {@link stop}. */
  readonly files: { readonly ca: string; readonly clientCert: string; readonly clientKey: string };
  /** Stops the server and removes the certificate files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Redis per `options` plus a TLS listener. A CA, a server and a client certificate are made with the
 * `openssl` CLI (P-256 keys, valid one day). The cert and key are host paths, so this needs a spawned server,
 * not a container.
 */
export async function startTlsRedis(options: StartTlsRedisOptions = {}): Promise<TlsRedis> {
  const { requireClientCert = false, certificateName, ...redisOptions } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-tls-'));
  trackDir(dir);
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };
  try {
    const file = (name: string) => path.join(dir, name);
    await writeCertificates(dir, certificateName);
    const [ca, clientCert, clientKey] = await Promise.all(
      ['ca.pem', 'client.pem', 'client-key.pem'].map((name) => readFile(file(name))),
    );
    const tlsPort = await freePort();
    const server = await startRedis({
      ...redisOptions,
      config: {
        'tls-port': String(tlsPort),
        'tls-cert-file': file('server.pem'),
        'tls-key-file': file('server-key.pem'),
        'tls-ca-cert-file': file('ca.pem'),
        'tls-auth-clients': requireClientCert ? 'yes' : 'no',
        ...redisOptions.config,
      },
    });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= server.stop().finally(removeDir));
    const files = { ca: file('ca.pem'), clientCert: file('client.pem'), clientKey: file('client-key.pem') };
    return { server, tlsPort, ca, clientCert, clientKey, files, stop };
  } catch (error) {
    await removeDir();
    throw error;
  }
}
