import { CliError, EXIT_FAILURE, EXIT_USAGE } from './cli-error.js';

/** A small client of the coordinator's HTTP API for `submit` and `status`. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl).toString();
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the coordinator at ${this.baseUrl} (${(error as Error).message}); start it with ` +
          '`shardbridge coordinator` or point --api / SHARDBRIDGE_API at it',
      );
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.ok) return parsed as T;
    throw problemToError(response.status, parsed, this.baseUrl);
  }
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  errors?: Array<{ field: string; reason: string }>;
}

function problemToError(status: number, body: unknown, baseUrl: string): CliError {
  const problem = (body ?? {}) as Problem;
  const lines = [`${problem.title ?? `HTTP ${status}`}${problem.detail ? `: ${problem.detail}` : ''}`];
  for (const issue of problem.errors ?? []) lines.push(`  ${issue.field}: ${issue.reason}`);
  if (status === 401) lines.push(`  set SHARDBRIDGE_API_TOKEN to the coordinator's token (${baseUrl})`);
  const exitCode = status === 400 || status === 422 ? EXIT_USAGE : EXIT_FAILURE;
  return new CliError(lines.join('\n') + (problem.code ? ` [${problem.code}]` : ''), exitCode);
}
