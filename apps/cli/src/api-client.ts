import { request as httpsRequest } from 'node:https';
import { readApiTls, type ApiTlsFiles } from './api-tls.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './cli-error.js';
import { API_URL_FORM } from './env-options.js';

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

/** A small client of the coordinator's HTTP API for the commands that talk to it. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly tls: ApiTlsOptions = {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = apiBaseUrl(this.baseUrl, path);
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
    let parsed: unknown;
    try {
      parsed = answer.text ? (JSON.parse(answer.text) as unknown) : undefined;
    } catch {
      if (answer.status >= 200 && answer.status < 300) {
        throw new CliError(
          `${this.baseUrl} answered ${method} ${url.pathname} with something other than JSON; is --api the ` +
            "coordinator's base URL (http(s)://host:port)?",
          EXIT_USAGE,
        );
      }
    }
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

/** `path` on the coordinator; a base that is not an http(s) URL is a usage error naming `--api`. */
function apiBaseUrl(base: string, path: string): URL {
  try {
    const url = new URL(path, base);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new CliError(`--api ${base}: ${API_URL_FORM}`, EXIT_USAGE);
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

/** An RFC 9457 problem document as the coordinator answers it (see its error handler). */
export interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  errors?: Array<{ field: string; reason: string }>;
}

/**
 * What the CLI adds to a problem's detail: the command that helps, where the detail (written for API clients too)
 * does not already say it.
 */
const CLI_FIXES: Record<string, string> = {
  UNAUTHORIZED: "set SHARDBRIDGE_API_TOKEN to the coordinator's token",
  PLAN_NOT_FOUND: 'list the plans with `shardbridge plans`',
  SHARD_NOT_FOUND: 'list its shards with `shardbridge status <planId>`',
  ROUTE_NOT_FOUND: "--api must be the coordinator's base URL, http(s)://host:port with no path",
  RATE_LIMITED: "wait a minute (the coordinator's --rate-limit)",
  // The detail lists each problem with its fix already.
  PREFLIGHT_FAILED:
    'check the plan with `shardbridge discover <plan file>`, or add "force": true to the plan to submit it anyway',
};

/** An error answer of the coordinator: `<detail> (<CODE>)`, the CLI's fix after it; `errors` kept for the caller. */
export class ApiError extends CliError {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Problem,
    message: string,
    exitCode: number,
  ) {
    super(message, exitCode);
  }
}

/** 400/413/415 and an unknown plan, shard or route: the input was wrong (2). Anything else failed (1). */
function exitCodeOf(status: number, code: string): number {
  if (status === 400 || status === 413 || status === 415) return EXIT_USAGE;
  if (status === 404 && code !== 'VERIFICATION_NOT_FOUND' && code !== 'CUTOVER_NOT_FOUND') return EXIT_USAGE;
  return EXIT_FAILURE;
}

export function problemToError(status: number, body: unknown, baseUrl: string): ApiError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const code = problem.code ?? `HTTP_${status}`;
  const fields = (problem.errors ?? []).map((issue) => `${issue.field}: ${issue.reason}`);
  // With per-field errors the detail repeats them (or says less): each is printed once, from the list.
  const first =
    fields.length > 0
      ? `${problem.title ?? 'Invalid request'}: ${fields.join('; ')}`
      : (problem.detail ?? problem.title ?? `the coordinator at ${baseUrl} answered HTTP ${status}`);
  const fix = CLI_FIXES[code];
  return new ApiError(
    status,
    code,
    problem,
    `${first} (${code})${fix ? `; ${fix}` : ''}`,
    exitCodeOf(status, code),
  );
}

/** The `--api`, token and TLS settings every API command takes. */
export interface ApiCommandOptions {
  /** the coordinator's base URL, `http(s)://host:port` */
  api: string;
  /** CA / client certificate files for an HTTPS coordinator. @defaultValue none (system CAs, no client cert) */
  apiTls?: ApiTlsFiles;
}

/** A client of the coordinator named by `--api`, with SHARDBRIDGE_API_TOKEN and the `--api-ca/cert/key` files. */
export async function connectApi(options: ApiCommandOptions): Promise<ApiClient> {
  return new ApiClient(
    options.api,
    process.env.SHARDBRIDGE_API_TOKEN || undefined,
    await readApiTls(options.apiTls),
  );
}
