/**
 * The event store as the agent holds it: a pipeline sink and an alert receiver that only
 * append to a bounded queue on the event path (what overflows is dropped and counted, per
 * kind and per minute of the rows' time), a writer that inserts what is queued in one
 * transaction every ~100 ms (src/store/writer.ts), on the main thread or a worker thread as
 * the load says (src/store/writer-host.ts), and the reads of the query API on the main thread
 * (src/store/reader.ts). docs/store.md says why SQLite, and what is kept and lost.
 *
 * The queue is the rows not yet committed: those gathered here (sent in chunks of 512,
 * src/store/chunk.ts, or every SEND_MS) and those the writer has and has not committed. Small
 * chunks sent often: rows held on the main thread for a tenth of a second would outlive the
 * young generation, and the collector would copy them on the way.
 */
import { mkdirSync, closeSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Alert } from '../alerts/types.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { StoreOptions } from './config.js';
import { Chunk, transferables } from './chunk.js';
import { Shapes } from './values.js';
import type { Committed, PerKind, RowsMessage, WriterData } from './protocol.js';
import { StoreReadConnection } from './reader.js';
import { KIND_CODE, LOSS_MINUTE_MS, storeError } from './schema.js';
import type { StoredKind, StoredRow, StoreKindStats, StoreReader, StoreScan, StoreStats } from './types.js';
import { WriterHost, type PlaceOptions } from './writer-host.js';

/** Rows gathered here go to the writer when a chunk is full, or after this long. */
const SEND_MS = 100;
/** The queue's bounds: ~1 s of 100 k events/s, and its JSON text (characters). */
const MAX_QUEUED_ROWS = 100_000;
const MAX_QUEUED_CHARS = 64 * 1024 * 1024;

export interface StoreDeps {
  /** Status lines (a failed write, the writer stopping); default: none. */
  log?: (line: string) => void;
  /** Where the writer runs (tests: the thresholds, or always on a thread). */
  writer?: PlaceOptions;
}

/** Rows dropped per kind and minute, not yet written to the `losses` table. */
type DropMinutes = [Map<number, number>, Map<number, number>];

const emptyDrops = (): DropMinutes => [new Map(), new Map()];

function kindStats(): StoreKindStats {
  return { rows: 0, bytes: 0, written: 0, evictedCap: 0, evictedTtl: 0, dropped: 0 };
}

const fileSize = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0;

/** The container an event or alert belongs to (12-hex id), or '' on the host. */
function containerOf(c: unknown): string {
  if (typeof c !== 'object' || c === null) return '';
  const id = (c as { id?: unknown }).id;
  return typeof id === 'string' && id !== 'host' ? id : '';
}

export class EventStore implements StoreReader {
  /** The shapes of stored events' data, shared by the chunks (src/store/values.ts). */
  private readonly shapes = new Shapes();
  private chunk = new Chunk(this.shapes, 0);
  private drops: DropMinutes = emptyDrops();
  /** Chunks the writer has and has not committed, oldest first. */
  private readonly sent: { seq: number; rows: PerKind; chars: number; drops: DropMinutes }[] = [];
  private sentRows = 0;
  private sentChars = 0;
  private nextSeq = 1;
  private committedSeq = 0;
  private readonly flushes: { seq: number; resolve: () => void }[] = [];
  private readonly counts = [kindStats(), kindStats()];
  private readonly trackers: Set<string>;
  /** Instances whose events are stored whatever their tracker (timed instances). */
  private readonly instances = new Set<number>();
  private readonly timer: NodeJS.Timeout;
  private broken?: string;
  private closing?: Promise<void>;
  private failures = 0;

  /** The main thread's read connection, opened once the writer has made the schema. */
  private reader?: StoreReadConnection;
  /** Settles when the writer has opened the database (ready()). */
  private readonly opened: Promise<void>;
  private readonly writer: WriterHost;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly opts: StoreOptions,
    deps: StoreDeps,
  ) {
    this.log = deps.log ?? (() => {});
    this.trackers = new Set(opts.trackers);
    const data: WriterData = { path: opts.path, limits: [opts.events, opts.alertLimits] };
    // Before the start, a failure is ready()'s to tell; after it, fail()'s.
    this.writer = new WriterHost(data, { committed: (m) => this.committed(m), failed: (why) => this.fail(why) }, deps.writer);
    this.opened = this.writer.opened.then(() => {
      try {
        this.reader = new StoreReadConnection(opts.path);
      } catch (e) {
        throw storeError(opts.path, 'cannot open it for reading', e);
      }
    });
    // Read by ready(); until then a failure is not an unhandled rejection.
    this.opened.catch(() => undefined);
    this.timer = setInterval(() => this.send(), SEND_MS);
    this.timer.unref();
  }

  /**
   * Creates the database file at `opts.path` if need be and starts its writer, without waiting
   * for a thread it may start: rows sent meanwhile wait in the writer's message queue. The
   * agent's trackers load meanwhile; ready() says whether it started. The directory is made with
   * mode 0700 and the file with 0600 (events carry command lines and paths); an existing file
   * keeps its mode.
   */
  static start(opts: StoreOptions, deps: StoreDeps = {}): EventStore {
    try {
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      closeSync(openSync(opts.path, 'a', 0o600));
    } catch (e) {
      throw storeError(opts.path, 'cannot create the database file', e);
    }
    return new EventStore(opts, deps);
  }

  /** Resolves once the writer has opened the database; rejects, naming the problem, if it cannot. */
  async ready(): Promise<void> {
    try {
      await this.opened;
    } catch (e) {
      this.writer.terminate();
      throw e;
    }
  }

  /** start() and ready(): the store, once it can be written and read. */
  static async open(opts: StoreOptions, deps: StoreDeps = {}): Promise<EventStore> {
    const store = EventStore.start(opts, deps);
    await store.ready();
    return store;
  }

  private get read(): StoreReadConnection {
    if (!this.reader) throw new EunomiaError(ErrorCodes.STATE, `store ${this.opts.path}: not open yet (await ready())`);
    return this.reader;
  }

  get path(): string {
    return this.opts.path;
  }

  /** The pipeline's end that stores the events of the chosen trackers and instances. */
  sink(): Sink {
    return {
      name: 'store',
      write: (ev) => {
        if (this.trackers.has(ev.tracker) || this.instances.has(ev.instance)) this.event(ev);
      },
      stats: () => ({ written: this.counts[0]!.written, dropped: this.counts[0]!.dropped }),
      // The agent closes the store itself, after the alerts that may still come.
      close: () => this.flush(),
    };
  }

  /** Stores the events of this instance too, whatever its tracker (a timed instance). */
  keepInstance(id: number): void {
    this.instances.add(id);
  }

  forgetInstance(id: number): void {
    this.instances.delete(id);
  }

  event(ev: TrackerEvent): void {
    if (this.full(0, ev.time)) return;
    this.chunk.push(0, ev.time, ev.instance, ev.tracker, containerOf(ev.data.container), '', ev);
    if (this.chunk.isFull) this.send();
  }

  alert(a: Alert): void {
    if (!this.opts.alerts) return;
    const time = Date.parse(a.time);
    const at = Number.isFinite(time) ? time : Date.now();
    if (this.full(1, at)) return;
    this.chunk.push(1, at, 0, a.source, containerOf(a.container), a.rule, a);
    if (this.chunk.isFull) this.send();
  }

  /** No room (or no writer): the row is dropped and counted, with the minute of its time. */
  private full(kind: 0 | 1, time: number): boolean {
    if (!this.broken && !this.closing && this.chunk.rows + this.sentRows < MAX_QUEUED_ROWS && this.chunk.chars + this.sentChars < MAX_QUEUED_CHARS) return false;
    this.counts[kind]!.dropped++;
    const m = Math.floor(time / LOSS_MINUTE_MS);
    const d = this.drops[kind];
    d.set(m, (d.get(m) ?? 0) + 1);
    return true;
  }

  /** Hands what is gathered (rows, counts of drops) to the writer. */
  private send(): void {
    if (this.broken) return;
    const q = this.chunk;
    const drops = this.drops;
    if (q.rows === 0 && drops[0].size === 0 && drops[1].size === 0) return;
    const seq = this.nextSeq++;
    const flat: [number, number, number][] = [];
    for (const k of [0, 1] as const) for (const [minute, n] of drops[k]) flat.push([k, minute, n]);
    const data = q.data();
    const msg: RowsMessage = { type: 'rows', seq, ...data, drops: flat };
    this.sent.push({ seq, rows: q.perKind, chars: q.chars, drops });
    this.sentRows += q.rows;
    this.sentChars += q.chars;
    this.chunk = new Chunk(this.shapes, q.rows);
    this.drops = emptyDrops();
    this.writer.post(msg, transferables(data));
  }

  private committed(m: Committed): void {
    for (const k of [0, 1] as const) {
      const c = this.counts[k]!;
      c.written += m.written[k];
      c.evictedCap += m.evictedCap[k];
      c.evictedTtl += m.evictedTtl[k];
    }
    if (m.upTo === undefined) return;
    while (this.sent.length && this.sent[0]!.seq <= m.upTo) {
      const done = this.sent.shift()!;
      this.sentRows -= done.rows[0] + done.rows[1];
      this.sentChars -= done.chars;
    }
    if (m.failed) {
      this.counts[0]!.dropped += m.failed.rows[0];
      this.counts[1]!.dropped += m.failed.rows[1];
      // The first few, then one in a thousand: a full disk fails every transaction.
      if (this.failures++ < 3 || this.failures % 1000 === 0) this.log(`store ${this.opts.path}: ${m.failed.rows[0] + m.failed.rows[1]} rows could not be written (${this.failures} times so far, counted as dropped): ${m.failed.message}`);
    }
    this.committedSeq = m.upTo;
    this.settle();
  }

  /** Resolves the flushes whose rows are committed (or can never be). */
  private settle(): void {
    for (let i = this.flushes.length - 1; i >= 0; i--) {
      const f = this.flushes[i]!;
      if (this.broken || f.seq <= this.committedSeq) {
        this.flushes.splice(i, 1);
        f.resolve();
      }
    }
    if (this.flushes.length === 0) this.writer.unref();
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = why;
    // What the writer had and what waits here will never be written.
    for (const k of [0, 1] as const) this.counts[k]!.dropped += this.chunk.perKind[k] + this.sent.reduce((n, c) => n + c.rows[k], 0);
    this.sent.length = 0;
    this.sentRows = this.sentChars = 0;
    this.chunk = new Chunk(this.shapes, 0);
    clearInterval(this.timer);
    if (!this.closing) this.log(`store ${this.opts.path}: ${why}; events and alerts are no longer stored (counted as dropped)`);
    this.settle();
  }

  /** Resolves once every row queued before the call is committed (or the writer is gone). */
  flush(): Promise<void> {
    if (this.broken) return Promise.resolve();
    this.send();
    if (this.sent.length === 0) return Promise.resolve();
    const seq = this.sent[this.sent.length - 1]!.seq;
    const done = new Promise<void>((resolve) => this.flushes.push({ seq, resolve }));
    // Awaited, the writer keeps the process alive until it answers.
    this.writer.ref();
    this.writer.post({ type: 'commit' });
    return done;
  }

  // ---- reads (StoreReader) ----

  scan(q: StoreScan): Iterable<StoredRow> {
    return this.read.scan(q);
  }

  oldest(kind?: StoredKind): number | undefined {
    return this.read.oldest(kind);
  }

  droppedBetween(from: number, to: number, kind?: StoredKind): number {
    let n = this.read.losses(from, to, kind);
    // Drops not in the database yet: queued, and sent but not committed.
    const a = Math.floor(from / LOSS_MINUTE_MS);
    const b = Math.floor(to / LOSS_MINUTE_MS);
    const codes = kind === undefined ? ([0, 1] as const) : ([KIND_CODE[kind]] as const);
    for (const drops of [this.drops, ...this.sent.map((c) => c.drops)]) {
      for (const k of codes) for (const [m, c] of drops[k]) if (m >= a && m <= b) n += c;
    }
    return n;
  }

  stats(): StoreStats {
    const totals = this.read.totals();
    const kind = (k: 0 | 1): StoreKindStats => ({ ...this.counts[k]!, rows: totals[k].rows, bytes: totals[k].bytes });
    return {
      path: this.opts.path,
      fileBytes: fileSize(this.opts.path) + fileSize(`${this.opts.path}-wal`),
      events: kind(0),
      alerts: kind(1),
      queued: this.chunk.rows + this.sentRows,
      writer: { on: this.writer.where, moves: this.writer.moves },
    };
  }

  /** Writes what is queued, stops the writer, closes both connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      clearInterval(this.timer);
      if (!this.broken) await this.writer.close();
      this.reader?.close();
    })();
    return this.closing;
  }

  /** Exit path: what is committed stays; the queue is given up. */
  closeNow(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    clearInterval(this.timer);
    this.writer.terminate();
    this.reader?.close();
  }
}

/** Opens the store the config asks for. */
export function openStore(opts: StoreOptions, deps?: StoreDeps): Promise<EventStore> {
  return EventStore.open(opts, deps);
}
