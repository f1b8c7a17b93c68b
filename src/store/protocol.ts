/** The messages between the store (main thread) and its writer (a worker thread). */
import type { ChunkData } from './chunk.js';
import type { KindLimits } from './config.js';

export interface WriterData {
  path: string;
  /** Bounds of events, then alerts (by kind code). */
  limits: [KindLimits, KindLimits];
  /** What the writer this one takes over from handed over (src/store/writer-host.ts). */
  from?: Handover;
}

/**
 * What a writer hands to the one that takes over from it (main thread to worker thread, or
 * back): the shapes it learnt (chunks name a shape's keys only the first time), the losses
 * it has not recorded yet, per kind ([minute, n]), and the chunks it has not committed, in
 * order.
 */
export interface Handover {
  shapes: [number, string[]][];
  unrecorded: [[number, number][], [number, number][]];
  pending: RowsMessage[];
}

/**
 * Rows for the writer (src/store/chunk.ts), and `drops`: rows the queue had no room for,
 * [kind, minute, n], counted with the losses. The main thread sends small chunks often (what
 * it holds dies young, which the garbage collector likes); the writer gathers them into one
 * transaction every ~100 ms.
 */
export interface RowsMessage extends ChunkData {
  type: 'rows';
  seq: number;
  drops: [number, number, number][];
}

/**
 * `commit`: write what has come now (a flush); `close`: commit, close and exit; `hand-over`:
 * close without committing, and answer with what the next writer needs.
 */
export type ToWriter = RowsMessage | { type: 'commit' } | { type: 'close' } | { type: 'hand-over' };

/** Per kind (by code): rows. */
export type PerKind = [number, number];

/**
 * What a transaction did: rows written and evicted (cap, TTL) per kind. `upTo`: the last chunk
 * it holds (absent for the writer's own TTL sweeps). Chunks that could not be written are
 * `failed`: their rows are counted as dropped (and among the losses, with the next
 * transaction that commits).
 */
export interface Committed {
  type: 'committed';
  upTo?: number;
  written: PerKind;
  evictedCap: PerKind;
  evictedTtl: PerKind;
  failed?: { rows: PerKind; message: string };
}

/** `load`: once a second, the milliseconds the writer spent in transactions since the last. */
export type FromWriter =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | Committed
  | { type: 'load'; ms: number }
  | { type: 'handed-over'; handover: Handover };
