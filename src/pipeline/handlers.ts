import type { Handler, Sink, TrackerEvent } from './types.js';

/** Passes the events for which `predicate` returns true; drops the others. */
export function filterHandler(name: string, predicate: (ev: TrackerEvent) => boolean): Handler {
  return {
    name,
    handle(ev, next) {
      if (predicate(ev)) next(ev);
    },
  };
}

/** Replaces each event by `fn(ev)`; returning null or undefined drops the event. */
export function mapHandler(name: string, fn: (ev: TrackerEvent) => TrackerEvent | null | undefined): Handler {
  return {
    name,
    handle(ev, next) {
      const out = fn(ev);
      if (out != null) next(out);
    },
  };
}

export interface CountingSink extends Sink {
  /** Events written so far. */
  readonly count: number;
}

/** A sink that only counts (for benchmarks and tests). Events written after close() count as dropped. */
export function countingSink(name = 'count'): CountingSink {
  let written = 0;
  let dropped = 0;
  let closed = false;
  return {
    name,
    write() {
      if (closed) dropped++;
      else written++;
    },
    stats: () => ({ written, dropped }),
    close: async () => {
      closed = true;
    },
    get count() {
      return written;
    },
  };
}
