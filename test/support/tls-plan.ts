import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsRedis } from '@shardbridge/testkit';

/** How one side of a TLS plan is reached: its server, the name its certificate is issued for, and its secrets. */
export interface TlsSideSpec {
  server: TlsRedis;
  /** sent as `servername`; the dialled address is 127.0.0.1, which the certificate does not name */
  servername: string;
  /** `tls.key` as written in the plan (a reference); omitted: no client certificate at all */
  key?: string;
  username?: string;
  /** `password` as written in the plan */
  password?: string;
}

function side(spec: TlsSideSpec) {
  return {
    seeds: [`127.0.0.1:${spec.server.tlsPort}`],
    ...(spec.username === undefined ? {} : { username: spec.username }),
    ...(spec.password === undefined ? {} : { password: spec.password }),
    tls: {
      ca: `file:${spec.server.files.ca}`,
      servername: spec.servername,
      ...(spec.key === undefined ? {} : { cert: `file:${spec.server.files.clientCert}`, key: spec.key }),
    },
  };
}

/** Writes a plan whose standalone source and target are both reached only through their TLS ports. */
export async function writeTlsPlan(
  dir: string,
  name: string,
  source: TlsSideSpec,
  target: TlsSideSpec,
): Promise<string> {
  const plan = {
    name,
    source: { type: 'standalone', ...side(source) },
    target: { type: 'standalone', ...side(target) },
  };
  const file = join(dir, `${name}.plan.json`);
  await writeFile(file, JSON.stringify(plan, null, 2));
  return file;
}
