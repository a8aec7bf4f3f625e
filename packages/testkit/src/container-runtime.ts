import { existsSync } from 'node:fs';

let memo: Promise<boolean> | undefined;

/**
 * Whether a container runtime looks reachable. Deliberately cheap and import-free (testcontainers' own probe is
 * slow to fail without Docker): `DOCKER_HOST` set, or a Docker/Podman socket on disk. Memoised per process.
 */
export function containerRuntimeAvailable(): Promise<boolean> {
  memo ??= Promise.resolve(probe());
  return memo;
}

function probe(): boolean {
  if (process.env.SHARDBRIDGE_TESTKIT === 'spawn') return false;
  if (process.env.DOCKER_HOST) return true;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const sockets = ['/var/run/docker.sock', '/run/podman/podman.sock'];
  if (uid !== undefined) sockets.push(`/run/user/${uid}/podman/podman.sock`, `/run/user/${uid}/docker.sock`);
  return sockets.some((socket) => existsSync(socket));
}
