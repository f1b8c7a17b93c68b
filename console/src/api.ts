/**
 * Every request of the console goes through here: the API's own routes, with the token (if the
 * agent has one) in `Authorization: Bearer`. The token lives in sessionStorage only: it goes
 * when the tab closes, and no cookie exists for another site to make the browser send.
 */

const TOKEN_KEY = 'eunomia.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

type Listener = () => void;
const unauthorized = new Set<Listener>();

/** Called whenever the agent answers 401: the app asks for the token again. */
export function onUnauthorized(f: Listener): () => void {
  unauthorized.add(f);
  return () => void unauthorized.delete(f);
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const t = token();
  return t ? { ...extra, authorization: `Bearer ${t}` } : extra;
}

/** An error answer's message, from the API's `{error: {code, message}}` body when it has one. */
export async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) message = body.error.message;
    if (body.error?.code) code = body.error.code;
  } catch {
    // not JSON: the status line says it
  }
  if (res.status === 401) for (const f of unauthorized) f();
  return new ApiError(res.status, code, message);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** A request to the API; JSON in and out (text when the answer is not JSON). */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers = authHeaders(opts.body !== undefined ? { 'content-type': 'application/json' } : {});
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      cache: 'no-store',
      credentials: 'omit',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'E_NETWORK', `the agent does not answer (${(e as Error).message})`);
  }
  if (!res.ok) throw await errorOf(res);
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** A query string from the set values (undefined and '' left out). */
export function qs(params: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
