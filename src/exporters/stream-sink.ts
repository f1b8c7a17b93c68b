import * as fs from 'node:fs';
import { finished, type Writable } from 'node:stream';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';

export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** Hand the batch to the stream early once it gets this big (characters). */
const FLUSH_AT = 64 * 1024;
/**
 * At most one write per this many ms while events keep coming. Each write costs the stream a
 * thread-pool round trip (two thread wake-ups) whatever its size: at a few hundred events a
 * second, one per event-loop turn cost more than rendering the lines.
 */
export const DEFAULT_FLUSH_MS = 100;

export interface StreamSinkOptions {
  name: string;
  output: Writable;
  /** Text for one event (its line(s), with line ends). May throw: the event is then dropped and counted. */
  render: (ev: TrackerEvent) => string;
  /** Drop events while the stream's queue plus our batch exceeds this (approximate bytes). Default 32 MiB. */
  maxQueuedBytes?: number;
  /** end() the output on close(). Default: true, except for process.stdout / process.stderr. */
  closeOutput?: boolean;
  /** Writes at most once per this many ms (the first after a quiet spell at once); 0: once per event-loop turn. Default 100. */
  flushMs?: number;
}

/**
 * - `written`: events accepted for output (batched or handed to the stream). Events still in
 *   the batch when the stream fails are moved to `dropped`; those already handed to the
 *   stream when it fails stay in `written` (we cannot know which bytes reached the OS).
 * - `dropped`: events not written: over the queue bound, after a write error, after close(),
 *   or whose rendering threw (also counted in `renderErrors`).
 * So written + dropped always equals the number of write() calls.
 */
export interface StreamSinkStats {
  written: number;
  dropped: number;
  renderErrors: number;
}

/**
 * The writing core of the exporters: batches rendered lines into one string and hands it to
 * the Writable at most once per `flushMs` (or when it reaches 64 KiB); the first line after a
 * quiet spell goes at the end of its event-loop turn. The event loop never waits on the output.
 * Memory is bounded by dropping (and counting) events while the stream's queue is over
 * `maxQueuedBytes`. The first write error (EPIPE when the reader went
 * away, ENOSPC, ...) stops all writing; it is kept in `lastError` and later events are dropped.
 */
export class StreamSink implements Sink {
  readonly name: string;
  /** The error that stopped writing, if any. */
  lastError: EunomiaError | undefined;
  /** Message of the last render failure, for diagnostics. */
  lastRenderError: string | undefined;

  private readonly output: Writable;
  private readonly render: (ev: TrackerEvent) => string;
  private readonly maxQueued: number;
  private readonly ownsOutput: boolean;
  private readonly flushMs: number;
  private buf = '';
  private bufEvents = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() of the last write handed to the stream. */
  private lastFlush = -Infinity;
  private written = 0;
  private dropped = 0;
  private renderErrors = 0;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(opts: StreamSinkOptions) {
    this.name = opts.name;
    this.output = opts.output;
    this.render = opts.render;
    this.maxQueued = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.ownsOutput = opts.closeOutput ?? !isStdio(opts.output);
    this.flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
    if (isStdio(this.output)) guardStdio(this.output);
    // Without a listener an 'error' (EPIPE) would crash the process.
    this.output.on('error', this.onError);
  }

  write(ev: TrackerEvent): void {
    if (this.stopped || this.closed || this.output.writableLength + this.buf.length > this.maxQueued) {
      this.dropped++;
      return;
    }
    let text: string;
    try {
      text = this.render(ev);
    } catch (err) {
      this.dropped++;
      this.renderErrors++;
      this.lastRenderError = err instanceof Error ? err.message : String(err);
      return;
    }
    this.buf += text;
    this.bufEvents++;
    this.written++;
    if (this.buf.length >= FLUSH_AT) this.flush();
    else if (!this.scheduled) this.schedule();
  }

  /** The next write: at the end of this turn after a quiet spell, else once flushMs has passed since the last. */
  private schedule(): void {
    this.scheduled = true;
    const wait = this.lastFlush + this.flushMs - performance.now();
    if (wait <= 0) setImmediate(this.onTick);
    else this.timer = setTimeout(this.onTick, Math.ceil(wait));
  }

  stats(): StreamSinkStats {
    return { written: this.written, dropped: this.dropped, renderErrors: this.renderErrors };
  }

  /**
   * Writes what is batched and resolves once the stream has taken it all (for an owned output:
   * once it has finished and its fd is closed). Rejects with lastError if writing failed for
   * another reason than the reader going away (EPIPE, or the stream destroyed by its owner).
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.flush();
    await this.idle();
    if (this.ownsOutput) await this.endOutput();
    if (this.ownsOutput || isStdio(this.output)) this.output.off('error', this.onError);
    if (this.lastError && !isBrokenPipe(this.lastError.cause)) throw this.lastError;
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    this.timer = undefined;
    this.flush();
  };

  private flush(): void {
    if (this.buf === '' || this.stopped) return;
    const out = this.output;
    if (out.destroyed || out.writableEnded) {
      // E.g. a child process's stdin, destroyed by Node when the child exits.
      this.fail(Object.assign(new Error('the output stream was closed'), { code: 'ERR_STREAM_DESTROYED' }));
      return;
    }
    const chunk = this.buf;
    this.buf = '';
    this.bufEvents = 0;
    this.lastFlush = performance.now();
    this.inflight++;
    try {
      out.write(chunk, this.onWritten);
    } catch (err) {
      this.inflight--;
      this.fail(err);
    }
  }

  private readonly onWritten = (err?: Error | null): void => {
    this.inflight--;
    if (err) this.fail(err);
    if (this.inflight === 0) this.wakeIdle();
  };

  private readonly onError = (err: Error): void => {
    this.fail(err);
  };

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    const e = err as NodeJS.ErrnoException;
    this.lastError = new EunomiaError(ErrorCodes.IO, `cannot write to ${this.target()}: ${errReason(err)}`, {
      cause: err,
      ...(typeof e?.errno === 'number' ? { errno: Math.abs(e.errno) } : {}),
    });
    this.written -= this.bufEvents;
    this.dropped += this.bufEvents;
    this.buf = '';
    this.bufEvents = 0;
    this.wakeIdle(); // pending write callbacks may never come after a failure
  }

  private idle(): Promise<void> {
    if (this.inflight === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private endOutput(): Promise<void> {
    const out = this.output;
    return new Promise((resolve) => {
      // Resolves after 'finish' and, for fs streams, 'close' (fd closed); errors reach onError.
      finished(out, () => resolve());
      if (this.stopped) out.destroy();
      else out.end();
    });
  }

  private target(): string {
    if (this.output === process.stdout || (this.output as { fd?: unknown }).fd === 1) return 'standard output';
    if (this.output === process.stderr) return 'standard error';
    const path = (this.output as { path?: unknown }).path;
    if (typeof path === 'string' && path !== '') return `output file ${path}`;
    return `the output of sink ${this.name}`;
  }
}

function isStdio(w: Writable): boolean {
  return w === process.stdout || w === process.stderr;
}

const guarded = new WeakSet<Writable>();

/**
 * stdout/stderr outlive sinks: a sink detaches its own listener on close, so keep one no-op
 * listener for good, so that a late EPIPE cannot crash the process.
 */
function guardStdio(w: Writable): void {
  if (guarded.has(w)) return;
  guarded.add(w);
  w.on('error', () => {});
}

/** The reader went away: how `eunomia ... | head` ends, not a failure worth reporting at close. */
function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

function errReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // "ENOENT: no such file or directory, open '/x/y'" → drop the repeated syscall and path.
  return err.message.replace(/, (open|write|close) '.*'$/s, '');
}

/**
 * The stream to export to: standard output when `path` is undefined, '' or '-' (never closed
 * by a sink), else the file, truncated ('w': a new run makes a new file; mode follows the
 * umask like other CLI tools). The file is opened synchronously so a bad path is reported
 * here, as EunomiaError(IO), rather than later as a stream 'error'.
 */
export function openOutput(path?: string): Writable {
  if (path === undefined || path === '' || path === '-') {
    // Not process.stdout: on Linux its pipe writes are synchronous, so a slow reader would
    // stall the event loop (and the readers behind it) instead of the sink counting drops.
    const out = fs.createWriteStream('', { fd: 1, autoClose: false });
    guardStdio(out);
    return out;
  }
  let fd: number;
  try {
    fd = fs.openSync(path, 'w');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new EunomiaError(ErrorCodes.IO, `cannot open output file ${path}: ${errReason(err)}`, {
      cause: err,
      ...(typeof e?.errno === 'number' ? { errno: Math.abs(e.errno) } : {}),
    });
  }
  return fs.createWriteStream(path, { fd });
}
