/**
 * The store's writer, with its own connection, on the main thread or a worker thread
 * (src/store/writer-host.ts decides where; src/store/writer-thread.ts is the thread's side).
 * The chunks of rows the main thread sends are gathered and inserted in one transaction every
 * ~100 ms (at once past MAX_TX_ROWS, or when asked to: a flush), with the bounds applied in the
 * same transaction (src/store/retention.ts): a reader never sees a kind over its cap, and a
 * kill loses at most the transaction under way. Once a second without rows, the bounds are
 * applied all the same (rows age past the TTL without new ones).
 */
import { performance } from 'node:perf_hooks';
import { eachRow, eachRowTime } from './chunk.js';
import { ValueReader } from './values.js';
import { LossMinutes, Retention, type Evicted } from './retention.js';
import { LOSS, LOSS_MINUTE_MS, type Database, type Statement } from './schema.js';
import type { Committed, FromWriter, Handover, PerKind, RowsMessage, WriterData } from './protocol.js';

export const SWEEP_MS = 1000;
/** How long rows wait for their transaction. */
const TX_MS = 100;
/** A transaction holds at most about this many rows: it stays short, and the TTL keeps up. */
const MAX_TX_ROWS = 20_000;

const isBusy = (e: unknown): boolean => typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('SQLITE_BUSY');

export class Writer {
  private readonly insert: Statement;
  private readonly retention: Retention;
  /** Losses of chunks that failed, counted with the next transaction that commits. */
  private readonly unrecorded: [LossMinutes, LossMinutes] = [new LossMinutes(), new LossMinutes()];
  private readonly write: (chunks: RowsMessage[]) => Committed;
  private readonly sweepTx: () => Committed;
  private pending: RowsMessage[] = [];
  /** The shapes of events' data the chunks brought, and their records written from values. */
  private readonly values = new ValueReader();
  private pendingRows = 0;
  private timer?: NodeJS.Timeout;
  private lastWrite = 0;
  /** Milliseconds spent in transactions since load() was last read. */
  private busyMs = 0;
  /**
   * The database was busy (another agent's transaction) and `keepBusy`: the chunks wait here
   * for a writer that can wait longer.
   */
  blocked = false;

  /**
   * `keepBusy`: when the database is busy past the connection's timeout, keep the rows and set
   * `blocked` instead of counting them as dropped (the main thread's writer waits only briefly).
   */
  constructor(
    private readonly db: Database,
    data: WriterData,
    private readonly post: (m: FromWriter) => void,
    private readonly keepBusy = false,
  ) {
    this.insert = db.prepare('INSERT INTO rows (kind, time, tracker, instance, container, rule, bytes, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.retention = new Retention(db, data.limits);
    // IMMEDIATE: the write lock is taken first, so two agents on one file wait, never deadlock.
    this.write = db.transaction((chunks: RowsMessage[]) => this.apply(chunks)).immediate;
    this.sweepTx = db.transaction(() => this.bounds(this.counts(), Date.now())).immediate;
    if (data.from) {
      this.values.learn(data.from);
      data.from.unrecorded.forEach((minutes, k) => {
        for (const [minute, n] of minutes) this.unrecorded[k]!.add(minute * LOSS_MINUTE_MS, n);
      });
      for (const m of data.from.pending) this.rows(m);
    }
  }

  rows(m: RowsMessage): void {
    this.values.learn(m.values);
    this.pending.push(m);
    this.pendingRows += m.n;
    if (this.blocked) return;
    if (this.pendingRows >= MAX_TX_ROWS) this.commit();
    else this.timer ??= setTimeout(() => this.commit(), TX_MS).unref();
  }

  /** `final`: the last commit (close), which keeps nothing back. */
  commit(final = false): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const chunks = this.pending;
    if (chunks.length === 0 || this.blocked) return;
    this.pending = [];
    this.pendingRows = 0;
    this.lastWrite = Date.now();
    const upTo = chunks[chunks.length - 1]!.seq;
    const t0 = performance.now();
    try {
      const c = this.write(chunks);
      // Committed with these rows: counted now.
      for (const u of this.unrecorded) u.clear();
      this.post({ ...c, upTo });
    } catch (e) {
      if (this.keepBusy && !final && isBusy(e)) {
        this.blocked = true;
        this.pending = chunks;
        this.pendingRows = chunks.reduce((n, b) => n + b.n, 0);
        return;
      }
      const rows: PerKind = [0, 0];
      for (const b of chunks) {
        eachRowTime(b, (k, time) => {
          rows[k]++;
          this.unrecorded[k].add(time);
        });
        for (const [k, minute, n] of b.drops) this.unrecorded[k as 0 | 1].add(minute * LOSS_MINUTE_MS, n);
      }
      this.post({ type: 'committed', upTo, written: [0, 0], evictedCap: [0, 0], evictedTtl: [0, 0], failed: { rows, message: (e as Error).message } });
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  /** The bounds when no rows came for a while: rows age past the TTL without new ones. */
  sweep(): void {
    if (Date.now() - this.lastWrite < SWEEP_MS || this.pending.length) return;
    const t0 = performance.now();
    try {
      const c = this.sweepTx();
      if (c.evictedTtl[0] + c.evictedTtl[1] + c.evictedCap[0] + c.evictedCap[1] > 0) this.post(c);
    } catch {
      // Busy (another agent's long transaction) or full: the next sweep tries again.
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  /** Once a second: the sweep, then the milliseconds spent in transactions since the last tick. */
  tick(): number {
    this.sweep();
    return this.load();
  }

  /** Milliseconds spent in transactions since the last call. */
  private load(): number {
    const ms = this.busyMs;
    this.busyMs = 0;
    return ms;
  }

  private counts(): Committed {
    return { type: 'committed', written: [0, 0], evictedCap: [0, 0], evictedTtl: [0, 0] };
  }

  private apply(chunks: RowsMessage[]): Committed {
    const c = this.counts();
    const bytes: PerKind = [0, 0];
    const dropped = [new LossMinutes(), new LossMinutes()] as const;
    for (const b of chunks) {
      eachRow(b, this.values, (k, time, instance, tracker, container, rule, record) => {
        const size = Buffer.byteLength(record);
        this.insert.run(k, time, tracker, instance, container, rule, size, record);
        c.written[k]++;
        bytes[k] += size;
      });
      for (const [k, minute, n] of b.drops) dropped[k as 0 | 1].add(minute * LOSS_MINUTE_MS, n);
    }
    for (const k of [0, 1] as const) {
      this.retention.added(k, c.written[k], bytes[k]);
      this.retention.lost(k, LOSS.dropped, dropped[k]);
      this.retention.lost(k, LOSS.dropped, this.unrecorded[k]);
    }
    return this.bounds(c, Date.now());
  }

  private bounds(c: Committed, now: number): Committed {
    for (const k of [0, 1] as const) {
      const e: Evicted = this.retention.enforce(k, now);
      c.evictedCap[k] += e.cap;
      c.evictedTtl[k] += e.ttl;
    }
    return c;
  }

  close(): void {
    this.blocked = false;
    this.commit(true);
    clearTimeout(this.timer);
    this.db.close();
  }

  /** Closes the connection without committing, and gives what the next writer needs. */
  handOver(): Handover {
    clearTimeout(this.timer);
    this.db.close();
    const minutes = (u: LossMinutes): [number, number][] => [...u.entries()];
    return { shapes: this.values.known(), unrecorded: [minutes(this.unrecorded[0]), minutes(this.unrecorded[1])], pending: this.pending };
  }
}
