import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Emit, Handler, Sink, TrackerEvent } from './types.js';

export interface PipelineOptions {
  handlers?: readonly Handler[];
  sinks?: readonly Sink[];
  /** How many error messages to keep for diagnostics (the first ones); default 10. */
  maxErrorSamples?: number;
}

/**
 * Per-handler counters.
 * - `in`: events given to the handler.
 * - `forwarded`: calls to `next` (a fan-out handler can forward more than it got).
 * - `filtered`: events the handler returned from without calling `next` and without throwing.
 *   Decided when `handle` returns, so a handler that calls `next` later (asynchronously)
 *   shows those events as filtered and, later, as forwarded.
 * - `errors`: events on which `handle` threw; the event is dropped from then on
 *   (anything already forwarded before the throw went on and stays counted as forwarded).
 */
export interface HandlerStats {
  name: string;
  in: number;
  forwarded: number;
  filtered: number;
  errors: number;
}

/** `written`/`dropped` come from Sink.stats(); `errors` counts write() calls that threw. */
export interface SinkStats {
  name: string;
  written: number;
  dropped: number;
  errors: number;
}

export interface ErrorSample {
  kind: 'handler' | 'sink';
  /** Handler or sink name. */
  stage: string;
  message: string;
}

export interface PipelineStats {
  /** Events pushed while the pipeline was open. */
  in: number;
  /** Events that reached the end of the handler chain (each counted once, whatever the number of sinks). */
  out: number;
  /** Events pushed after close() began; they go nowhere. */
  droppedClosed: number;
  /** Total handler and sink errors. */
  errors: number;
  handlers: HandlerStats[];
  sinks: SinkStats[];
  /** The first few errors (bounded by maxErrorSamples). */
  errorSamples: ErrorSample[];
}

class HandlerSlot {
  in = 0;
  forwarded = 0;
  filtered = 0;
  errors = 0;
  constructor(readonly handler: Handler) {}
}

class SinkSlot {
  errors = 0;
  constructor(readonly sink: Sink) {}
}

/**
 * Handler chain plus sink fan-out. The chain is composed into closures when handlers or
 * sinks change, so pushing an event costs a few closure calls and counter increments.
 */
export class Pipeline {
  private readonly slots: HandlerSlot[] = [];
  private readonly sinkSlots: SinkSlot[] = [];
  private readonly maxErrorSamples: number;
  private readonly samples: ErrorSample[] = [];
  private head: Emit = () => {};
  private inCount = 0;
  private outCount = 0;
  private droppedClosed = 0;
  private errorCount = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(opts: PipelineOptions = {}) {
    this.maxErrorSamples = opts.maxErrorSamples ?? 10;
    for (const h of opts.handlers ?? []) this.insertHandler(h, this.slots.length);
    for (const s of opts.sinks ?? []) this.insertSink(s);
    this.rebuild();
  }

  /** Bound, so it can be handed to a reader as a plain callback. */
  readonly push: Emit = (ev: TrackerEvent): void => {
    if (this.closed) {
      this.droppedClosed++;
      return;
    }
    this.inCount++;
    this.head(ev);
  };

  get isClosed(): boolean {
    return this.closed;
  }

  handlerNames(): string[] {
    return this.slots.map((s) => s.handler.name);
  }

  sinkNames(): string[] {
    return this.sinkSlots.map((s) => s.sink.name);
  }

  /**
   * Insert a handler at `position` (index in chain order, 0 = first; clamped;
   * default: last). Names must be unique.
   */
  addHandler(h: Handler, position?: number): void {
    this.assertOpen('add a handler');
    const at = position === undefined ? this.slots.length : Math.max(0, Math.min(this.slots.length, Math.trunc(position)));
    this.insertHandler(h, at);
    this.rebuild();
  }

  /** Take a handler out of the chain. The caller owns it afterwards (close() will not close it). */
  removeHandler(name: string): Handler | undefined {
    const i = this.slots.findIndex((s) => s.handler.name === name);
    if (i < 0) return undefined;
    const [slot] = this.slots.splice(i, 1);
    this.rebuild();
    return slot!.handler;
  }

  addSink(s: Sink): void {
    this.assertOpen('add a sink');
    this.insertSink(s);
    this.rebuild();
  }

  /** Detach a sink. The caller owns it afterwards and should close() it to flush it. */
  removeSink(name: string): Sink | undefined {
    const i = this.sinkSlots.findIndex((s) => s.sink.name === name);
    if (i < 0) return undefined;
    const [slot] = this.sinkSlots.splice(i, 1);
    this.rebuild();
    return slot!.sink;
  }

  stats(): PipelineStats {
    return {
      in: this.inCount,
      out: this.outCount,
      droppedClosed: this.droppedClosed,
      errors: this.errorCount,
      handlers: this.slots.map((s) => ({
        name: s.handler.name,
        in: s.in,
        forwarded: s.forwarded,
        filtered: s.filtered,
        errors: s.errors,
      })),
      sinks: this.sinkSlots.map((s) => {
        let st = { written: 0, dropped: 0 };
        try {
          st = s.sink.stats();
        } catch {
          // A broken stats() must not break diagnostics; report zeros.
        }
        return { name: s.sink.name, written: st.written, dropped: st.dropped, errors: s.errors };
      }),
      errorSamples: this.samples.map((e) => ({ ...e })),
    };
  }

  /**
   * Stop accepting events, then close handlers one by one in chain order (so a handler that
   * flushes on close still reaches the open stages after it), then all sinks together.
   * Every close is awaited even if others fail; failures are reported together afterwards.
   * Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    const failures: { name: string; err: unknown }[] = [];
    for (const { handler } of this.slots) {
      if (!handler.close) continue;
      try {
        await handler.close();
      } catch (err) {
        failures.push({ name: `handler ${handler.name}`, err });
      }
    }
    const results = await Promise.allSettled(this.sinkSlots.map((s) => Promise.resolve().then(() => s.sink.close())));
    results.forEach((r, i) => {
      if (r.status === 'rejected') failures.push({ name: `sink ${this.sinkSlots[i]!.sink.name}`, err: r.reason });
    });
    if (failures.length === 0) return;
    if (failures.length === 1 && failures[0]!.err instanceof EunomiaError) throw failures[0]!.err;
    const detail = failures.map((f) => `${f.name}: ${messageOf(f.err)}`).join('; ');
    throw new EunomiaError(ErrorCodes.IO, `closing the pipeline: ${failures.length} stage(s) failed: ${detail}`, {
      cause: failures.length === 1 ? failures[0]!.err : new AggregateError(failures.map((f) => f.err)),
    });
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new EunomiaError(ErrorCodes.STATE, `cannot ${what}: the pipeline is closed`);
  }

  private insertHandler(h: Handler, at: number): void {
    if (!h || typeof h.handle !== 'function') {
      throw new EunomiaError(ErrorCodes.USAGE, `not a pipeline handler: ${String(h?.name ?? h)}`);
    }
    if (this.slots.some((s) => s.handler.name === h.name)) {
      throw new EunomiaError(ErrorCodes.USAGE, `a handler named "${h.name}" is already in the pipeline`);
    }
    this.slots.splice(at, 0, new HandlerSlot(h));
  }

  private insertSink(s: Sink): void {
    if (!s || typeof s.write !== 'function') {
      throw new EunomiaError(ErrorCodes.USAGE, `not a pipeline sink: ${String(s?.name ?? s)}`);
    }
    if (this.sinkSlots.some((x) => x.sink.name === s.name)) {
      throw new EunomiaError(ErrorCodes.USAGE, `a sink named "${s.name}" is already in the pipeline`);
    }
    this.sinkSlots.push(new SinkSlot(s));
  }

  private recordError(kind: 'handler' | 'sink', stage: string, err: unknown): void {
    this.errorCount++;
    if (this.samples.length < this.maxErrorSamples) this.samples.push({ kind, stage, message: messageOf(err) });
  }

  /** Compose sinks and handlers into one Emit. Events already in flight keep the old chain. */
  private rebuild(): void {
    // Snapshot: a sink or handler added/removed during an event does not disturb that event.
    const sinks = this.sinkSlots.slice();
    const n = sinks.length;
    let next: Emit = (ev) => {
      this.outCount++;
      for (let i = 0; i < n; i++) {
        const s = sinks[i]!;
        try {
          s.sink.write(ev);
        } catch (err) {
          s.errors++;
          this.recordError('sink', s.sink.name, err);
        }
      }
    };
    for (let i = this.slots.length - 1; i >= 0; i--) next = this.stage(this.slots[i]!, next);
    this.head = next;
  }

  private stage(slot: HandlerSlot, downstream: Emit): Emit {
    const h = slot.handler;
    const forward: Emit = (ev) => {
      slot.forwarded++;
      downstream(ev);
    };
    return (ev) => {
      slot.in++;
      const before = slot.forwarded;
      try {
        h.handle(ev, forward);
      } catch (err) {
        slot.errors++;
        this.recordError('handler', h.name, err);
        return;
      }
      if (slot.forwarded === before) slot.filtered++;
    };
  }
}

function messageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}
