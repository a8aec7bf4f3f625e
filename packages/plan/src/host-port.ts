/** A dialable or announced endpoint. IPv6 hosts are kept without brackets. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port`. Returns null when the text is not an endpoint, so callers can word their own
 * error (a plan field, a CLI flag).
 */
export function parseHostPort(text: string): HostPort | null {
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text);
  const plain = /^([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) return null;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: match[1], port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
