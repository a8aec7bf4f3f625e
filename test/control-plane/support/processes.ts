import { hostname } from 'node:os';
import { freePort, type RedisServer } from '@shardbridge/testkit';
import { startCli, type CliProcess } from '../../support/cli-process.js';

/** Bearer token of every coordinator these suites start. */
export const API_TOKEN = 'control-plane-e2e-token';

/** A `shardbridge coordinator` process and the base URL it listens on. */
export interface CoordinatorProcess {
  readonly cli: CliProcess;
  readonly url: string;
  readonly port: number;
}

/** A `shardbridge worker` process and the worker id it reports in shard status (`<hostname>-<pid>`). */
export interface WorkerProcess {
  readonly cli: CliProcess;
  readonly workerId: string;
}

/**
 * Every process a suite started, so afterAll/afterEach can SIGKILL whatever is still alive, also after a failed
 * assertion left one behind.
 */
export class ProcessGroup {
  private readonly members = new Set<CliProcess>();

  add<T extends { cli: CliProcess }>(member: T): T {
    this.members.add(member.cli);
    void member.cli.exited.then(() => this.members.delete(member.cli));
    return member;
  }

  async killAll(): Promise<void> {
    const alive = [...this.members];
    for (const cli of alive) cli.child.kill('SIGKILL');
    await Promise.all(alive.map((cli) => cli.exited));
  }

  /** Output of every member still alive, for the message of a failed wait. */
  output(): string {
    return [...this.members]
      .map((cli) => `--- pid ${cli.child.pid}\n${cli.stdout().slice(-20000)}${cli.stderr().slice(-2000)}`)
      .join('\n');
  }
}

/** Starts `shardbridge coordinator` on `port` (a free one when omitted) and waits until it listens. */
export async function startCoordinatorProcess(
  queue: RedisServer,
  /** `args`: extra command-line flags */
  options: { port?: number; token?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<CoordinatorProcess> {
  const port = options.port ?? (await freePort());
  const flags = [
    '--queue',
    queue.url,
    '--port',
    String(port),
    '--log-level',
    'info',
    ...(options.args ?? []),
  ];
  const cli = startCli(['coordinator', ...flags], {
    ...options.env,
    SHARDBRIDGE_API_TOKEN: options.token ?? API_TOKEN,
  });
  try {
    await cli.waitFor(/coordinator listening on/, 60_000);
  } catch (error) {
    cli.child.kill('SIGKILL');
    throw error;
  }
  return { cli, url: `http://127.0.0.1:${port}`, port };
}

/** Starts `shardbridge worker` and waits until it takes jobs. `env` is added to this test process's env. */
export async function startWorkerProcess(
  queue: RedisServer,
  options: { concurrency: number; env?: NodeJS.ProcessEnv; args?: string[] },
): Promise<WorkerProcess> {
  const cli = startCli(
    [
      'worker',
      '--queue',
      queue.url,
      '--concurrency',
      String(options.concurrency),
      '--log-level',
      'info',
      ...(options.args ?? []),
    ],
    options.env,
  );
  try {
    await cli.waitFor(/worker ready/, 60_000);
  } catch (error) {
    cli.child.kill('SIGKILL');
    const ping = await queue.info('server').then(
      () => 'answers',
      (cause: Error) => `does not answer (${cause.message})`,
    );
    throw new Error(`worker did not start; the queue Redis at ${queue.url} ${ping}`, { cause: error });
  }
  // The CLI leaves ShardWorker's default id: `${hostname()}-${process.pid}` of the worker process.
  return { cli, workerId: `${hostname()}-${cli.child.pid}` };
}
