/**
 * Where the store's writer runs. On the main thread while its transactions take little of it:
 * an idle agent writes a few rows a second, and a worker thread (a V8 isolate of its own)
 * would cost ~10 MiB of memory for nothing. On a worker thread once they take UP_MS or more
 * of a second, or when the database is busy with another agent's transaction (the main thread
 * waits only MAIN_BUSY_MS for it); back on the main thread after QUIET_S seconds under DOWN_MS
 * each. A move closes one writer's connection and hands the next what it needs (Handover:
 * the chunks not committed, the shapes, the losses not recorded): no row is written twice or
 * lost on the way.
 */
import { Worker } from 'node:worker_threads';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Committed, FromWriter, ToWriter, WriterData } from './protocol.js';
import { openDatabase, storeError } from './schema.js';
import { SWEEP_MS, Writer } from './writer.js';

/**
 * The thread's module, found from this module's URL as the CLI's bundle (dist/bundle/cli/, at
 * the depth of dist/src/store/) finds it too: the worker runs the compiled module, not a chunk.
 */
const WRITER_URL = new URL('../../src/store/writer-thread.js', import.meta.url);

/** Moves to a thread when the writer's transactions took this long in a second (~4 % of a core). */
const UP_MS = 40;
/** …and back when they took less than this, each second for QUIET_S seconds. */
const DOWN_MS = 10;
const QUIET_S = 60;
/** How long the main thread's writer waits for another agent's transaction before moving. */
const MAIN_BUSY_MS = 50;
/**
 * The main thread's writer's page cache, KiB: a few rows a second touch the indexes' last
 * pages and the oldest rows' first ones. The thread's keeps openDatabase's 16 MiB, which a
 * long-running agent's cache fills with the pages it appended.
 */
const MAIN_CACHE_KIB = 2048;

export type WriterPlace = 'main' | 'thread';

export interface PlaceOptions {
  /** `auto` (the default): where the load says, as above; `thread`: always on a worker thread. */
  place?: 'auto' | 'thread';
  upMs?: number;
  downMs?: number;
  quietS?: number;
}

export interface HostEvents {
  committed(m: Committed): void;
  /** The writer stopped after it had started: nothing more will be written. */
  failed(why: string): void;
}

export class WriterHost {
  /** Moves between the main thread and a worker thread so far. */
  moves = 0;
  /** Settles when the first writer has opened the database. */
  readonly opened: Promise<void>;
  private main?: Writer;
  private tick?: NodeJS.Timeout;
  private worker?: Worker;
  /** Messages for the writer while the worker hands over to the main thread. */
  private held?: ToWriter[];
  private handedOver?: Promise<void>;
  private quiet = 0;
  /** Whether the writer keeps the process alive (while a flush is awaited). */
  private refd = false;
  private stopped = false;
  private readonly upMs: number;
  private readonly downMs: number;
  private readonly quietS: number;

  constructor(
    private readonly data: WriterData,
    private readonly on: HostEvents,
    private readonly opts: PlaceOptions = {},
  ) {
    this.upMs = opts.upMs ?? UP_MS;
    this.downMs = opts.downMs ?? DOWN_MS;
    this.quietS = opts.quietS ?? QUIET_S;
    if (opts.place === 'thread') {
      this.opened = this.startThread(data, true);
    } else {
      this.opened = new Promise<void>((resolve) => resolve(this.startMain(data)));
    }
  }

  /** Where the writer runs: a thread also while it starts, or hands back to the main thread. */
  get where(): WriterPlace {
    return this.main ? 'main' : 'thread';
  }

  post(m: ToWriter, transfer?: readonly ArrayBuffer[]): void {
    if (this.stopped) return;
    if (this.held) this.held.push(m);
    else if (this.main) this.deliver(m);
    else this.worker?.postMessage(m, transfer as ArrayBuffer[] | undefined);
  }

  ref(): void {
    this.refd = true;
    this.tick?.ref();
    this.worker?.ref();
  }

  unref(): void {
    this.refd = false;
    this.tick?.unref();
    this.worker?.unref();
  }

  /** Commits what the writer has, closes its connection, and stops its thread if it has one. */
  async close(): Promise<void> {
    // Held until closed: a hand-back under way finishes on a thread nothing else keeps alive.
    this.ref();
    await this.handedOver;
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    if (this.main) return this.main.close();
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.ref();
    w.postMessage({ type: 'close' } satisfies ToWriter);
    await exited;
  }

  /** Exit path: what is committed stays; what the writer holds is given up. */
  terminate(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    if (this.main) this.main.handOver();
    void this.worker?.terminate();
  }

  /** A message to the writer on this thread. */
  private deliver(m: ToWriter): void {
    if (m.type === 'rows') this.main!.rows(m);
    else if (m.type === 'commit') this.main!.commit();
  }

  /** The writer on this thread; its answers come asynchronously, as a thread's would. */
  private startMain(data: WriterData): void {
    const db = openDatabase(data.path, 'writer');
    try {
      db.pragma(`busy_timeout = ${MAIN_BUSY_MS}`);
      db.pragma(`cache_size = -${MAIN_CACHE_KIB}`);
      this.main = new Writer(db, data, (m) => queueMicrotask(() => this.fromWriter(m)), true);
    } catch (e) {
      db.close();
      throw e instanceof EunomiaError ? e : storeError(data.path, 'cannot use the database', e);
    }
    this.tick = setInterval(() => this.mainTick(), SWEEP_MS);
    if (!this.refd) this.tick.unref();
    // The bounds at once: the rows of a long stop may have expired, or the caps may be lower now.
    this.main.sweep();
  }

  /**
   * A worker thread with the writer; resolves once it has opened the database. `first`: the
   * store's first writer, whose failure to start is the opening's to tell (and which holds the
   * process until then).
   */
  private startThread(data: WriterData, first = false): Promise<void> {
    const w = new Worker(WRITER_URL, { workerData: data });
    this.worker = w;
    if (!first && !this.refd) w.unref();
    let started = false;
    w.on('message', (m: FromWriter) => this.fromWriter(m));
    const lost = (why: string): void => {
      if (started && this.worker === w && !this.stopped) this.fail(why);
    };
    w.on('error', (e) => lost(`the writer failed: ${e.message}`));
    w.on('exit', () => lost('the writer stopped'));
    return new Promise<void>((resolve, reject) => {
      const ready = (m: FromWriter): void => {
        if (m.type !== 'ready' && m.type !== 'fatal') return;
        w.off('message', ready);
        // A fatal message is the whole error already (openDatabase's).
        if (m.type === 'fatal') return reject(new EunomiaError(ErrorCodes.IO, m.message));
        started = true;
        if (!this.refd) w.unref();
        resolve();
      };
      w.on('message', ready);
      w.once('error', (e) => started || reject(storeError(data.path, 'the writer failed to start', e)));
      w.once('exit', (code) => started || reject(storeError(data.path, 'the writer failed to start', new Error(`it exited (${code})`))));
    });
  }

  private fromWriter(m: FromWriter): void {
    if (m.type === 'committed') this.on.committed(m);
    else if (m.type === 'load') this.threadLoad(m.ms);
    else if (m.type === 'handed-over') this.backToMain(m.handover);
  }

  private mainTick(): void {
    const w = this.main!;
    const ms = w.tick();
    if (!w.blocked && ms < this.upMs) return;
    clearInterval(this.tick);
    this.tick = undefined;
    this.main = undefined;
    this.moves++;
    this.quiet = 0;
    this.startThread({ ...this.data, from: w.handOver() }).catch((e: Error) => this.fail(`the writer could not move to a worker thread: ${e.message}`));
  }

  private threadLoad(ms: number): void {
    if (this.opts.place === 'thread' || this.held || this.stopped) return;
    this.quiet = ms < this.downMs ? this.quiet + 1 : 0;
    if (this.quiet < this.quietS) return;
    this.held = [];
    this.handedOver = new Promise<void>((resolve) => {
      this.worker!.once('exit', () => resolve());
    });
    this.worker!.postMessage({ type: 'hand-over' } satisfies ToWriter);
  }

  private backToMain(handover: NonNullable<WriterData['from']>): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.worker = undefined;
    this.moves++;
    try {
      this.startMain({ ...this.data, from: handover });
    } catch (e) {
      return this.fail(`the writer could not move to the main thread: ${(e as Error).message}`);
    }
    for (const m of held) this.deliver(m);
  }

  private fail(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    this.main = undefined;
    this.held = undefined;
    void this.worker?.terminate();
    this.on.failed(why);
  }
}
