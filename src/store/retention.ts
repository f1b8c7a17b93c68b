/**
 * The store's bounds, applied by the writer inside each batch's transaction: rows older than
 * the kind's time-to-live go, then the oldest rows until the kind is within its row and byte
 * caps. Every evicted row is counted, per reason, and per minute of its time (the `losses`
 * table), so that a query can say how much of its window is gone, across restarts.
 */
import type { KindLimits } from './config.js';
import { LOSS, LOSS_MINUTE_MS, type Database, type Statement } from './schema.js';

/** Rows evicted per transaction at most for the TTL: a long-stopped agent catches up over several. */
const TTL_CHUNK = 50_000;
/** Losses are kept at least this long (and twice the TTL). */
const LOSSES_KEPT_MS = 86_400_000;

export interface Evicted {
  cap: number;
  ttl: number;
}

/** Per-minute counts of lost rows, for the `losses` table. */
export class LossMinutes {
  private readonly counts = new Map<number, number>();

  add(time: number, n = 1): void {
    const m = Math.floor(time / LOSS_MINUTE_MS);
    this.counts.set(m, (this.counts.get(m) ?? 0) + n);
  }

  get size(): number {
    return this.counts.size;
  }

  entries(): IterableIterator<[number, number]> {
    return this.counts.entries();
  }

  clear(): void {
    this.counts.clear();
  }
}

export class Retention {
  private readonly oldest: Statement;
  private readonly expired: Statement;
  private readonly totals: Statement;
  private readonly adjust: Statement;
  private readonly addLoss: Statement;
  private readonly pruneLosses: Statement;

  constructor(
    private readonly db: Database,
    private readonly limits: readonly [KindLimits, KindLimits],
  ) {
    this.oldest = db.prepare('DELETE FROM rows WHERE id IN (SELECT id FROM rows WHERE kind = ? ORDER BY time, id LIMIT ?) RETURNING time, bytes');
    this.expired = db.prepare('DELETE FROM rows WHERE id IN (SELECT id FROM rows WHERE kind = ? AND time < ? ORDER BY time, id LIMIT ?) RETURNING time, bytes');
    this.totals = db.prepare('SELECT rows, bytes FROM kinds WHERE kind = ?');
    this.adjust = db.prepare('UPDATE kinds SET rows = rows + ?, bytes = bytes + ? WHERE kind = ?');
    this.addLoss = db.prepare('INSERT INTO losses (kind, minute, reason, n) VALUES (?, ?, ?, ?) ON CONFLICT (kind, minute, reason) DO UPDATE SET n = n + excluded.n');
    this.pruneLosses = db.prepare('DELETE FROM losses WHERE kind = ? AND minute < ?');
  }

  /** Adds rows (and their bytes) to a kind's totals: the writer, after inserting them. */
  added(kind: 0 | 1, rows: number, bytes: number): void {
    if (rows) this.adjust.run(rows, bytes, kind);
  }

  /** Counts lost rows of a kind, per minute, for `reason`. */
  lost(kind: 0 | 1, reason: number, minutes: LossMinutes): void {
    for (const [minute, n] of minutes.entries()) this.addLoss.run(kind, minute, reason, n);
  }

  /** TTL, then the caps, for one kind; inside the caller's transaction. */
  enforce(kind: 0 | 1, now: number): Evicted {
    const lim = this.limits[kind];
    const ttl = this.evict(kind, LOSS.ttl, this.expired.all(kind, now - lim.ttlMs, TTL_CHUNK) as Row[]);
    let cap = 0;
    let { rows, bytes } = this.totals.get(kind) as { rows: number; bytes: number };
    if (rows > lim.maxRows) {
      cap += this.evict(kind, LOSS.cap, this.oldest.all(kind, rows - lim.maxRows) as Row[]);
      ({ rows, bytes } = this.totals.get(kind) as { rows: number; bytes: number });
    }
    // Rows differ in size: an estimate from the mean, never more than the excess, until within.
    while (bytes > lim.maxBytes && rows > 0) {
      const n = Math.max(1, Math.floor((bytes - lim.maxBytes) / (bytes / rows)));
      const gone = this.evict(kind, LOSS.cap, this.oldest.all(kind, n) as Row[]);
      if (gone === 0) break;
      cap += gone;
      ({ rows, bytes } = this.totals.get(kind) as { rows: number; bytes: number });
    }
    // Losses older than twice the TTL (and a day) concern windows no row is kept for any more;
    // a row per minute at most, so a day of them is little.
    this.pruneLosses.run(kind, Math.floor((now - Math.max(2 * lim.ttlMs, LOSSES_KEPT_MS)) / LOSS_MINUTE_MS));
    return { cap, ttl };
  }

  private evict(kind: 0 | 1, reason: number, gone: Row[]): number {
    if (gone.length === 0) return 0;
    const minutes = new LossMinutes();
    let bytes = 0;
    for (const r of gone) {
      minutes.add(r.time);
      bytes += r.bytes;
    }
    this.adjust.run(-gone.length, -bytes, kind);
    this.lost(kind, reason, minutes);
    return gone.length;
  }
}

interface Row {
  time: number;
  bytes: number;
}
