/**
 * A StoreReader over an array, for the query's tests: rows in (time, id) order, scans by the
 * indexed columns, evictions counted by time. What the real store (src/store/) must answer
 * alike; test/query/store.test.ts checks the same queries on it.
 */
import type { StoreReader, StoreScan, StoreStats, StoredKind, StoredRow } from '../../src/store/types.js';

export class MemoryStore implements StoreReader {
  private rows: StoredRow[] = [];
  private evicted: { time: number; kind: StoredKind }[] = [];
  private nextId = 1;
  /** Scans made, for tests of how the query reads the store. */
  readonly scans: StoreScan[] = [];

  add(row: Omit<StoredRow, 'id'>): StoredRow {
    const r = { ...row, id: this.nextId++ };
    this.rows.push(r);
    this.rows.sort((a, b) => a.time - b.time || a.id - b.id);
    return r;
  }

  /** Evicts the oldest `n` rows of a kind, as a row cap would. */
  evictOldest(n: number, kind: StoredKind = 'event'): void {
    for (let i = 0; i < n; i++) {
      const at = this.rows.findIndex((r) => r.kind === kind);
      if (at < 0) return;
      this.evicted.push({ time: this.rows[at]!.time, kind });
      this.rows.splice(at, 1);
    }
  }

  *scan(q: StoreScan): Iterable<StoredRow> {
    this.scans.push(q);
    const ok = (r: StoredRow): boolean =>
      (q.kind === undefined || r.kind === q.kind) && (q.from === undefined || r.time >= q.from) && (q.to === undefined || r.time <= q.to)
      && (q.tracker === undefined || r.tracker === q.tracker) && (q.container === undefined || r.container === q.container)
      && (q.rule === undefined || r.rule === q.rule) && (q.instance === undefined || r.instance === q.instance);
    const list = q.order === 'asc' ? this.rows : [...this.rows].reverse();
    let n = 0;
    for (const r of list) {
      if (q.limit !== undefined && n >= q.limit) return;
      if (!ok(r)) continue;
      n++;
      yield r;
    }
  }

  oldest(kind: StoredKind = 'event'): number | undefined {
    return this.rows.find((r) => r.kind === kind)?.time;
  }

  droppedBetween(from: number, to: number, kind: StoredKind = 'event'): number {
    return this.evicted.filter((e) => e.kind === kind && e.time >= from && e.time <= to).length;
  }

  stats(): StoreStats {
    const kind = (k: StoredKind) => {
      const rows = this.rows.filter((r) => r.kind === k);
      return { rows: rows.length, bytes: rows.reduce((n, r) => n + JSON.stringify(r.record).length, 0), written: rows.length, evictedCap: this.evicted.filter((e) => e.kind === k).length, evictedTtl: 0, dropped: 0 };
    };
    return { path: ':memory:', fileBytes: 0, events: kind('event'), alerts: kind('alert'), queued: 0, writer: { on: 'main', moves: 0 } };
  }
}

/** A stored process event as the agent records it. */
export function execRow(time: number, data: Record<string, unknown>, instance = 1): Omit<StoredRow, 'id'> {
  const c = (data.container ?? { id: 'host', name: 'host' }) as { id: string; name: string };
  return {
    time, kind: 'event', tracker: 'process', instance,
    container: c.id === 'host' ? '' : c.id, containerName: c.id === 'host' ? '' : c.name, rule: '', comm: String(data.comm ?? ''),
    record: { tracker: 'process', instance, time, data: { type: 'exec', ...data, container: c } },
  };
}
