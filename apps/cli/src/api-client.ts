import { request as httpsRequest } from 'node:https';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './cli-error.js';

/** How the CLI verifies an HTTPS coordinator and proves itself to one that requires client certificates. */
export interface ApiTlsOptions {
  /** CA bundle (PEM) that signed the coordinator's certificate. @defaultValue undefined (the system CAs) */
  ca?: Buffer | string;
  /** client certificate (PEM), for a coordinator started with a client CA. @defaultValue undefined */
  cert?: Buffer | string;
  /** the client certificate's private key (PEM). @defaultValue undefined */
  key?: Buffer | string;
}

interface RawAnswer {
  status: number;
  text: string;
}

const TIMEOUT_MS = 30_000;

/** A small client of the coordinator's HTTP API for `submit`, `status` and `discover`. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly tls: ApiTlsOptions = {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let answer: RawAnswer;
    try {
      answer =
        url.protocol === 'https:'
          ? await this.httpsCall(url, method, headers, payload)
          : await fetchCall(url, method, headers, payload);
    } catch (error) {
      throw new CliError(
        `cannot reach the coordinator at ${this.baseUrl} (${describe(error)}); start it with ` +
          '`shardbridge coordinator` or point --api / SHARDBRIDGE_API at it' +
          (url.protocol === 'https:'
            ? '; for HTTPS give its CA with --api-ca (and --api-cert/--api-key for mTLS)'
            : ''),
      );
    }
    const parsed = answer.text ? (JSON.parse(answer.text) as unknown) : undefined;
    if (answer.status >= 200 && answer.status < 300) return parsed as T;
    throw problemToError(answer.status, parsed, this.baseUrl);
  }

  /** node:https rather than fetch: fetch cannot be given a CA or a client certificate without undici. */
  private httpsCall(
    url: URL,
    method: string,
    headers: Record<string, string>,
    payload: string | undefined,
  ): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          headers:
            payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
          ca: this.tls.ca,
          cert: this.tls.cert,
          key: this.tls.key,
          timeout: TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

async function fetchCall(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
): Promise<RawAnswer> {
  const response = await fetch(url, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, text: await response.text() };
}

function describe(error: unknown): string {
  const { message, cause } = error as { message?: string; cause?: { message?: string } };
  return cause?.message ? `${message}: ${cause.message}` : (message ?? String(error));
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
