/**
 * The store's reads, on the main thread's own connection: WAL lets it read beside the writer
 * (a worker thread), and it never writes (query_only). Scans fetch pages of rows by their
 * place in the index (time, id), so no statement stays open between two pages: a caller may
 * read the store again while it walks a scan.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { KIND_CODE, KINDS, LOSS_MINUTE_MS, openDatabase, type Database, type Statement } from './schema.js';
import type { StoredKind, StoredRow, StoreScan } from './types.js';

const PAGE = 2000;

interface RawRow {
  id: number;
  time: number;
  kind: number;
  tracker: string;
  instance: number;
  container: string;
  rule: string;
  record: string;
}

/** Rows and bytes held per kind (by code). */
export type Totals = [{ rows: number; bytes: number }, { rows: number; bytes: number }];

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/** The row as the query API sees it: the record parsed, the container's name and comm from it. */
function toRow(r: RawRow): StoredRow {
  let record: Record<string, unknown>;
  try {
    record = obj(JSON.parse(r.record));
  } catch {
    record = {};
  }
  const kind = KINDS[r.kind] ?? 'event';
  // An event's fields are in `data`; an alert's process is `process`.
  const holder = kind === 'event' ? obj(record.data) : record;
  const container = obj(holder.container);
  return {
    id: r.id,
    time: r.time,
    kind,
    tracker: r.tracker,
    instance: r.instance,
    container: r.container,
    containerName: r.container ? str(container.name) : '',
    rule: r.rule,
    comm: kind === 'event' ? str(holder.comm) : str(obj(record.process).comm),
    record,
  };
}

function kindCode(kind: unknown): 0 | 1 {
  const code = KIND_CODE[kind as StoredKind];
  if (code === undefined) throw new EunomiaError(ErrorCodes.REQUEST, `kind must be "event" or "alert", got ${JSON.stringify(kind)}`);
  return code;
}

export class StoreReadConnection {
  private readonly db: Database;
  private readonly oldestOf: [Statement, Statement];
  private readonly oldestAny: Statement;
  private readonly totalsOf: Statement;
  private readonly lossesOf: Statement;
  private readonly lossesAny: Statement;

  constructor(path: string) {
    this.db = openDatabase(path, 'reader');
    this.oldestOf = [this.db.prepare('SELECT min(time) AS t FROM rows WHERE kind = 0'), this.db.prepare('SELECT min(time) AS t FROM rows WHERE kind = 1')];
    this.oldestAny = this.db.prepare('SELECT min(time) AS t FROM rows');
    this.totalsOf = this.db.prepare('SELECT kind, rows, bytes FROM kinds');
    this.lossesOf = this.db.prepare('SELECT coalesce(sum(n), 0) AS n FROM losses WHERE kind = ? AND minute BETWEEN ? AND ?');
    this.lossesAny = this.db.prepare('SELECT coalesce(sum(n), 0) AS n FROM losses WHERE minute BETWEEN ? AND ?');
  }

  /** Rows of the range, newest first unless `order` is "asc", fetched a page at a time. */
  *scan(q: StoreScan): Generator<StoredRow> {
    const where: string[] = [];
    const params: unknown[] = [];
    // The kind's code in the text (not bound): the partial indexes (rule, instance) apply only then.
    if (q.kind !== undefined) where.push(`kind = ${kindCode(q.kind)}`);
    const bound = (sql: string, v: unknown): void => {
      where.push(sql);
      params.push(v);
    };
    if (q.from !== undefined) bound('time >= ?', Math.floor(q.from));
    if (q.to !== undefined) bound('time <= ?', Math.floor(q.to));
    if (q.tracker !== undefined) bound('tracker = ?', q.tracker);
    if (q.container !== undefined) bound('container = ?', q.container);
    if (q.rule !== undefined) bound('rule = ?', q.rule);
    if (q.instance !== undefined) bound('instance = ?', q.instance);
    const asc = q.order === 'asc';
    const after = asc ? '(time, id) > (?, ?)' : '(time, id) < (?, ?)';
    const sql = (more: boolean): string =>
      `SELECT id, time, kind, tracker, instance, container, rule, record FROM rows${where.length || more ? ' WHERE ' : ''}${[...where, ...(more ? [after] : [])].join(' AND ')} ORDER BY time ${asc ? 'ASC' : 'DESC'}, id ${asc ? 'ASC' : 'DESC'} LIMIT ?`;
    const first = this.db.prepare(sql(false));
    const next = this.db.prepare(sql(true));
    let left = q.limit === undefined ? Infinity : Math.max(0, Math.floor(q.limit));
    let last: RawRow | undefined;
    while (left > 0) {
      const n = Math.min(PAGE, left);
      const page = (last ? next.all(...params, last.time, last.id, n) : first.all(...params, n)) as RawRow[];
      for (const r of page) yield toRow(r);
      left -= page.length;
      if (page.length < n) return;
      last = page[page.length - 1];
    }
  }

  oldest(kind?: StoredKind): number | undefined {
    const r = (kind === undefined ? this.oldestAny : this.oldestOf[kindCode(kind)]).get() as { t: number | null };
    return r.t ?? undefined;
  }

  /** Rows lost (evicted, dropped) per the `losses` table in the minutes [from, to] touch. */
  losses(from: number, to: number, kind?: StoredKind): number {
    const a = Math.floor(from / LOSS_MINUTE_MS);
    const b = Math.floor(to / LOSS_MINUTE_MS);
    const r = (kind === undefined ? this.lossesAny.get(a, b) : this.lossesOf.get(kindCode(kind), a, b)) as { n: number };
    return r.n;
  }

  totals(): Totals {
    const out: Totals = [{ rows: 0, bytes: 0 }, { rows: 0, bytes: 0 }];
    for (const r of this.totalsOf.all() as { kind: number; rows: number; bytes: number }[]) if (r.kind === 0 || r.kind === 1) out[r.kind] = { rows: r.rows, bytes: r.bytes };
    return out;
  }

  close(): void {
    this.db.close();
  }
}
