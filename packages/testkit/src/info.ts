import { Redis, type RedisOptions } from 'ioredis';

/** Parses INFO output into `field -> value`; section headers and blank lines are dropped. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * Runs one INFO over a fresh connection that neither retries nor queues, so it fails fast against a killed or
 * paused server instead of hanging until the test times out.
 */
export async function fetchInfo(
  connection: RedisOptions,
  section?: string,
  timeoutMs = 5000,
): Promise<Record<string, string>> {
  const client = new Redis({
    ...connection,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => {
    // Surfaced through the rejected command instead.
  });
  try {
    await client.connect();
    const text = section === undefined ? await client.info() : await client.info(section);
    return parseInfo(text);
  } finally {
    client.disconnect();
  }
}
