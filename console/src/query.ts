/** GET /query (docs/query.md): the store's history, as the pages ask for it. */
import { api, ApiError, messageOf, qs } from './api.js';

export interface StoredRowJson {
  id: number;
  time: string;
  kind: 'event' | 'alert';
  tracker: string;
  instance?: number;
  container: string;
  rule: string;
  record: Record<string, unknown>;
}

export interface QueryAnswer {
  window: { from: string; to: string };
  oldest: string | null;
  dropped: number;
  complete: boolean;
  rows?: StoredRowJson[];
  groups?: { key: Record<string, unknown>; count: number }[];
}

export interface QueryParams {
  where?: string;
  kind?: 'event' | 'alert';
  from?: string;
  to?: string;
  tracker?: string;
  container?: string;
  rule?: string;
  group?: string;
  limit?: number;
}

export function query(p: QueryParams, signal?: AbortSignal): Promise<QueryAnswer> {
  return api<QueryAnswer>(`/query${qs({ ...p })}`, signal ? { signal } : {});
}

/**
 * What to say when a query fails: a mistake in the filter is the reader's to fix; anything
 * else means the history cannot be had (no store, an agent without the query API).
 */
export function historyError(e: unknown): string {
  if (e instanceof ApiError && e.status === 400) return `filter: ${e.message}`;
  return `history unavailable: ${messageOf(e)}`;
}

/** "window 10:01–10:16, complete" or what it misses. */
export function coverage(a: QueryAnswer): string {
  const t = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : 'none');
  const parts = [`${t(a.window.from)} – ${t(a.window.to)}`];
  if (a.complete) parts.push('complete');
  else {
    parts.push(`incomplete: oldest kept ${t(a.oldest)}`);
    if (a.dropped) parts.push(`${a.dropped} rows dropped in this window`);
  }
  return parts.join('; ');
}

export const RANGES = ['5m', '15m', '1h', '6h', '24h', '7d'] as const;
