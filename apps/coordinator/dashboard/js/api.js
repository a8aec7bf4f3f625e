// The page itself holds no data: every plan, shard and report comes from the coordinator's /v1 API with the same
// bearer token the CLI uses. The token lives in sessionStorage (this tab only, gone when it closes).

const TOKEN_KEY = 'shardbridge.apiToken';

/** A refusal or failure of the API, with the problem's code and one-line detail when it sent one. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Calls the API with `Authorization: Bearer <token>` (when there is one). Resolves to the parsed JSON body (null
 * for an empty one); rejects with an {@link ApiError} for any status >= 400 or a coordinator that cannot be
 * reached.
 */
export async function api(method, path, { token = storedToken(), body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(
      0,
      'UNREACHABLE',
      'the coordinator cannot be reached: check that it runs, then reload',
    );
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const code = parsed?.code ?? `HTTP_${response.status}`;
    const detail = parsed?.detail ?? `${method} ${path} answered ${response.status}`;
    throw new ApiError(response.status, code, detail);
  }
  return parsed;
}

export const plansPath = '/v1/plans';
export const planPath = (id) => `/v1/plans/${encodeURIComponent(id)}`;
