import net from 'node:net';

/** Credentials sent with AUTH before PING; `username` needs Redis 6+ ACLs. */
export interface PingCredentials {
  username?: string;
  password?: string;
}

function encodeCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/**
 * Opens one raw connection, optionally AUTHs, sends PING and resolves with the first line of the PING reply
 * (`+PONG`, `-LOADING ...`, `-NOAUTH ...`). Rejects on connection errors or after `timeoutMs`.
 * A raw socket rather than ioredis: readiness probes must not reconnect or queue behind the scenes.
 */
export function pingOnce(
  host: string,
  port: number,
  credentials: PingCredentials = {},
  timeoutMs = 1000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = '';
    const expectedLines = credentials.password !== undefined ? 2 : 1;
    const finish = (error: Error | undefined, line?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line ?? '');
    };
    const timer = setTimeout(() => finish(new Error(`PING to ${host}:${port} timed out`)), timeoutMs);
    socket.setEncoding('latin1');
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const lines = received.split('\r\n');
      if (lines.length <= expectedLines) return;
      const authLine = expectedLines === 2 ? lines[0] : undefined;
      if (authLine !== undefined && authLine.startsWith('-')) return finish(undefined, authLine);
      finish(undefined, lines[expectedLines - 1]);
    });
    socket.once('connect', () => {
      const commands: Buffer[] = [];
      if (credentials.password !== undefined) {
        commands.push(
          encodeCommand(
            credentials.username !== undefined
              ? ['AUTH', credentials.username, credentials.password]
              : ['AUTH', credentials.password],
          ),
        );
      }
      commands.push(encodeCommand(['PING']));
      socket.write(Buffer.concat(commands));
    });
  });
}
