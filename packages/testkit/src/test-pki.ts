import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { trackDir, untrackDir } from './process-registry.js';

const run = promisify(execFile);

/** PEM contents and paths of a throwaway CA, a server certificate and a client certificate it signed. */
export interface TestPki {
  /** the CA certificate: trust it as `ca` (clients) or as the client CA (servers) */
  readonly ca: Buffer;
  /** valid for `IP:127.0.0.1` and `DNS:localhost`, extended key usage serverAuth */
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  /** extended key usage clientAuth */
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** the same PEMs as files, for CLI flags; removed by {@link remove} */
  readonly files: {
    readonly ca: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
  };
  /** Deletes the files. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Makes a CA plus server and client certificates with the `openssl` CLI (P-256 keys, valid one day), in a
 * temporary directory, for HTTPS and mutual-TLS tests of anything that is not Redis (see startTlsRedis for Redis).
 */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardbridge-pki-'));
  trackDir(dir);
  let removing: Promise<void> | undefined;
  const remove = (): Promise<void> =>
    (removing ??= rm(dir, { recursive: true, force: true }).then(() => untrackDir(dir)));
  const file = (name: string) => path.join(dir, name);
  try {
    await writeCertificates(dir);
    const files = {
      ca: file('ca.pem'),
      serverCert: file('server.pem'),
      serverKey: file('server-key.pem'),
      clientCert: file('client.pem'),
      clientKey: file('client-key.pem'),
    };
    const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
      [files.ca, files.serverCert, files.serverKey, files.clientCert, files.clientKey].map((f) =>
        readFile(f),
      ),
    );
    return { ca, serverCert, serverKey, clientCert, clientKey, files, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Writes a throwaway CA (`ca.pem`, `ca-key.pem`) and, signed by it, a server certificate (`server.pem`,
 * `server-key.pem`: `certificateName` as its only DNS name, or 127.0.0.1 and localhost) and a client certificate
 * (`client.pem`, `client-key.pem`) into `dir`. Valid for a day; EC P-256 keys; needs `openssl` on PATH.
 */
export async function writeCertificates(dir: string, certificateName?: string): Promise<void> {
  const file = (name: string) => path.join(dir, name);
  await run('openssl', [
    'req', '-x509', ...newKey(file('ca-key.pem')), '-days', '1', '-subj', '/CN=shardbridge test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', file('ca.pem'),
  ]); // prettier-ignore
  const serverNames = certificateName ? `DNS:${certificateName}` : 'IP:127.0.0.1,DNS:localhost';
  await issue(
    dir,
    'server',
    certificateName ?? 'localhost',
    `subjectAltName=${serverNames}\nextendedKeyUsage=serverAuth\n`,
  );
  await issue(dir, 'client', 'shardbridge test client', 'extendedKeyUsage=clientAuth\n');
}

function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
}

/** Makes `<name>.pem` and `<name>-key.pem` in `dir`, signed by the CA there, with `extensions` (openssl syntax). */
async function issue(dir: string, name: string, commonName: string, extensions: string): Promise<void> {
  const file = (suffix: string) => path.join(dir, `${name}${suffix}`);
  await writeFile(file('.ext'), extensions);
  await run('openssl', [
    'req',
    ...newKey(file('-key.pem')),
    '-subj',
    `/CN=${commonName}`,
    '-out',
    file('.csr'),
  ]);
  await run('openssl', [
    'x509', '-req', '-in', file('.csr'), '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca-key.pem'),
    '-CAcreateserial', '-days', '1', '-extfile', file('.ext'), '-out', file('.pem'),
  ]); // prettier-ignore
}
