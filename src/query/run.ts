/**
 * Runs a checked query (params.ts) against the store: scans the indexes in chunks, yielding
 * to the event loop between them (a query over a day must not stall the event pipeline), keeps
 * the rows `where` accepts, and answers with rows or counts per group, saying which window it
 * covered and what of that window the store no longer holds.
 */
import type { StoreReader, StoreScan, StoredKind, StoredRow } from '../store/types.js';
import type { QuerySpec } from './params.js';
import { rowGetter, scanHints, type RowGetter } from './where.js';

/** Rows read per scan of the store between two yields to the event loop. */
export const CHUNK_ROWS = 500;
/** Distinct groups counted at most; rows of further groups are counted in `other`. */
export const MAX_GROUPS = 100_000;

/** A stored row as answered: `time` in ISO-8601, `ms` the exact time (fractional ms), for paging. */
export type AnswerRow = Omit<StoredRow, 'time'> & { time: string; ms: number };

export interface AnswerGroup {
  /** The group's value of each field (null when the rows lack it); with `bucket`, also `bucket`: the bucket's start, ISO-8601. */
  key: Record<string, unknown>;
  count: number;
}

export interface QueryAnswer {
  kind: StoredKind;
  window: { from: string; to: string };
  /** Time of the oldest row of this kind the store holds, or null when it holds none. */
  oldest: string | null;
  /** Rows of this kind whose time is in the window that the store evicted or never wrote. */
  dropped: number;
  /** False when the store's history starts after `from`, or rows of the window were dropped. */
  complete: boolean;
  /** Rows read from the store's indexes, and of those, the rows the filters accepted. */
  scanned: number;
  matched: number;
  /** Rows (or groups) beyond `limit` exist; `next` holds the parameters of the next page of rows. */
  more: boolean;
  next?: { to: number; before: number } | { from: number; after: number };
  rows?: AnswerRow[];
  groups?: AnswerGroup[];
  /** With `group`: distinct groups found (at most MAX_GROUPS), and rows of groups past that. */
  groupsTotal?: number;
  other?: number;
}

export interface RunOptions {
  chunkRows?: number;
  /** Called between chunks; default: wait for the event loop's next turn. */
  pause?: () => Promise<void>;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The window's rows in the query's order, in chunks. Each chunk is a scan from the last row
 * seen; rows at that row's time already seen are skipped by id, so ties are neither lost nor
 * repeated, and a run of ties longer than a chunk makes the next scan larger.
 */
async function* chunks(store: StoreReader, base: StoreScan, q: QuerySpec, size: number, pause: () => Promise<void>): AsyncGenerator<StoredRow[]> {
  const desc = q.order === 'desc';
  let bound = desc ? q.to : q.from;
  let seen = new Set<number>();
  // The previous page ended at (bound, cursor): in this order, ties are by id in the same direction.
  let cursor = desc ? q.before : q.after;
  let n = size;
  for (;;) {
    const got = [...store.scan({ ...base, ...(desc ? { to: bound } : { from: bound }), limit: n })];
    const skip = (r: StoredRow): boolean =>
      r.time === bound && (seen.has(r.id) || (cursor !== undefined && (desc ? r.id >= cursor : r.id <= cursor)));
    const fresh = got.filter((r) => !skip(r));
    if (fresh.length) yield fresh;
    if (got.length < n) return;
    if (fresh.length === 0) {
      n *= 2;
      continue;
    }
    const last = fresh[fresh.length - 1]!;
    if (last.time !== bound) {
      seen = new Set();
      cursor = undefined;
    }
    for (const r of fresh) if (r.time === last.time) seen.add(r.id);
    bound = last.time;
    n = size;
    await pause();
  }
}

function answerRow(r: StoredRow): AnswerRow {
  return { ...r, time: iso(r.time), ms: r.time };
}

/** A group's value of a field: scalars as they are, objects and arrays as JSON text, missing as null. */
function keyValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'bigint' ? Number(v) : v;
}

export async function runQuery(store: StoreReader, q: QuerySpec, opts: RunOptions = {}): Promise<QueryAnswer> {
  const pause = opts.pause ?? nextTurn;
  const hints = q.where ? scanHints(q.where.expr) : {};
  const tracker = q.tracker ?? hints.tracker;
  const container = q.container ?? hints.container;
  const base: StoreScan = {
    kind: q.kind, from: q.from, to: q.to, order: q.order,
    ...(tracker !== undefined ? { tracker } : {}),
    ...(container !== undefined ? { container } : {}),
    ...(q.rule !== undefined ? { rule: q.rule } : {}),
    ...(q.instance !== undefined ? { instance: q.instance } : {}),
  };
  // The container is checked again on each row: the host's is '', which a store could take for "any".
  const tests: ((r: StoredRow) => boolean)[] = [];
  if (container !== undefined) tests.push((r) => r.container === container);
  if (q.containerName !== undefined) { const name = q.containerName; tests.push((r) => r.containerName === name); }
  if (q.where) tests.push(q.where.test);
  const accept = (r: StoredRow): boolean => tests.every((t) => t(r));

  let scanned = 0;
  let matched = 0;
  const answer = (): Pick<QueryAnswer, 'kind' | 'window' | 'oldest' | 'dropped' | 'complete' | 'scanned' | 'matched'> => {
    // Read after the scan: an eviction while it ran is then counted.
    const oldest = store.oldest(q.kind);
    const dropped = store.droppedBetween(q.from, q.to, q.kind);
    return {
      kind: q.kind, window: { from: iso(q.from), to: iso(q.to) }, oldest: oldest === undefined ? null : iso(oldest), dropped,
      complete: dropped === 0 && (oldest === undefined || oldest <= q.from), scanned, matched,
    };
  };

  if (!q.group) {
    const rows: StoredRow[] = [];
    // Without a filter the first scan is the page (one row more tells whether there are more).
    const size = tests.length ? opts.chunkRows ?? CHUNK_ROWS : q.limit + 1;
    outer: for await (const chunk of chunks(store, base, q, size, pause)) {
      for (const r of chunk) {
        scanned++;
        if (!accept(r)) continue;
        if (rows.length === q.limit) { matched++; break outer; }
        rows.push(r);
        matched++;
      }
    }
    const more = matched > rows.length;
    const last = rows[rows.length - 1];
    const next = more && last ? (q.order === 'desc' ? { to: last.time, before: last.id } : { from: last.time, after: last.id }) : undefined;
    return { ...answer(), more, ...(next ? { next } : {}), rows: rows.map(answerRow) };
  }

  const getters: [string, RowGetter][] = q.group.map((f) => [f, rowGetter(f)]);
  const bucket = q.bucket;
  const groups = new Map<string, { values: unknown[]; count: number }>();
  let other = 0;
  for await (const chunk of chunks(store, base, q, opts.chunkRows ?? CHUNK_ROWS, pause)) {
    for (const r of chunk) {
      scanned++;
      if (!accept(r)) continue;
      matched++;
      const values = getters.map(([, get]) => keyValue(get(r)));
      if (bucket !== undefined) values.push(Math.floor(r.time / bucket) * bucket);
      const k = JSON.stringify(values);
      const g = groups.get(k);
      if (g) g.count++;
      else if (groups.size < MAX_GROUPS) groups.set(k, { values, count: 1 });
      else other++;
    }
  }
  const all = [...groups.entries()];
  const byBucket = (a: unknown[], b: unknown[]): number => (bucket === undefined ? 0 : (a[a.length - 1] as number) - (b[b.length - 1] as number));
  all.sort(([ka, a], [kb, b]) => byBucket(a.values, b.values) || b.count - a.count || (ka < kb ? -1 : ka > kb ? 1 : 0));
  const shown = all.slice(0, q.limit).map(([, g]): AnswerGroup => {
    const key: Record<string, unknown> = {};
    getters.forEach(([f], i) => (key[f] = g.values[i]));
    if (bucket !== undefined) key.bucket = iso(g.values[g.values.length - 1] as number);
    return { key, count: g.count };
  });
  return { ...answer(), more: all.length > q.limit || other > 0, groups: shown, groupsTotal: groups.size, other };
}
