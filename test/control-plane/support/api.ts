import { API_TOKEN } from './processes.js';

/** One HTTP answer of the coordinator. */
export interface Answer {
  status: number;
  headers: Headers;
  /** parsed JSON when the answer is JSON, else the text */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** bearer token; `null` sends none. @defaultValue API_TOKEN */
  token?: string | null;
}

/** fetch against a coordinator, bounded to 30 s, with the suites' bearer token unless told otherwise. */
export async function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? API_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: /json/.test(type) ? JSON.parse(text) : text,
  };
}

/** The part of a shard's status (GET /v1/plans/:id) these suites read. */
export interface ShardView {
  id: string;
  announced: string;
  reachable: string;
  jobId: string;
  phase: string;
  jobState: string;
  sourceOffset: number;
  acknowledgedOffset: number;
  fullSyncs: number;
  partialSyncs: number;
  attempts: number;
  workerId: string | null;
  lastError: { code: string; message: string } | null;
}

export interface PlanView {
  id: string;
  name: string;
  state: string;
  createdAt: string;
  phases: Record<string, number>;
  shards: ShardView[];
}

export async function getPlan(baseUrl: string, planId: string): Promise<PlanView> {
  const answer = await call(baseUrl, `/v1/plans/${planId}`);
  if (answer.status !== 200) throw new Error(`GET /v1/plans/${planId}: ${answer.status} ${answer.text}`);
  return answer.body as PlanView;
}

/**
 * Polls the plan every `pollMs` (250) until `done(shards)` holds; returns those shards. A request that fails (the
 * coordinator restarting) is retried until the deadline. The timeout message shows the last shard states and
 * `context()` (process output).
 */
export async function waitForShards(
  baseUrl: string,
  planId: string,
  what: string,
  done: (shards: ShardView[]) => boolean,
  options: { timeoutMs?: number; pollMs?: number; context?: () => string } = {},
): Promise<ShardView[]> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'no answer yet';
  for (;;) {
    try {
      const plan = await getPlan(baseUrl, planId);
      last = plan.shards.map(({ id, phase, jobState, workerId, lastError }) => ({
        id,
        phase,
        jobState,
        workerId,
        lastError,
      }));
      if (done(plan.shards)) return plan.shards;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} of plan ${planId}\nlast: ${JSON.stringify(last, null, 1)}\n` +
          (options.context?.() ?? ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}

export const allIncremental = (shards: ShardView[]) => shards.every((shard) => shard.phase === 'incremental');
