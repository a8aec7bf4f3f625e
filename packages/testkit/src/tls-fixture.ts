import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { trackDir, untrackDir } from './process-registry.js';
import { startRedis, type RedisServer, type StartRedisOptions } from './redis-server.js';

const run = promisify(execFile);

/** A Redis that also accepts TLS, with a throwaway self-signed certificate. */
export interface TlsRedis {
  readonly server: RedisServer;
  /** Loopback port that speaks TLS; {@link RedisServer.port} stays plain TCP (admin clients use it). */
  readonly tlsPort: number;
  /**
   * The self-signed certificate (PEM) to trust as `ca`. Valid for `IP:127.0.0.1` and `DNS:localhost`; clients
   * are not asked for a certificate (`tls-auth-clients no`).
   */
  readonly ca: Buffer;
  /** Stops the server and removes the certificate files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Redis per `options` plus a TLS listener. The certificate is made with the `openssl` CLI (RSA 2048, valid
 * one day). The cert and key are host paths, so this needs a spawned server, not a container.
 */
export async function startTlsRedis(options: StartRedisOptions = {}): Promise<TlsRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-tls-'));
  trackDir(dir);
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };
  try {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
    ]); // prettier-ignore
    const ca = await readFile(cert);
    const tlsPort = await freePort();
    const server = await startRedis({
      ...options,
      config: {
        'tls-port': String(tlsPort),
        'tls-cert-file': cert,
        'tls-key-file': key,
        'tls-ca-cert-file': cert,
        'tls-auth-clients': 'no',
        ...options.config,
      },
    });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= server.stop().finally(removeDir));
    return { server, tlsPort, ca, stop };
  } catch (error) {
    await removeDir();
    throw error;
  }
}
