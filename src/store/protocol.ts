/** The messages between the store (main thread) and its writer (a worker thread). */
import type { ChunkData } from './chunk.js';
import type { KindLimits } from './config.js';

export interface WriterData {
  path: string;
  /** Bounds of events, then alerts (by kind code). */
  limits: [KindLimits, KindLimits];
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

/** `commit`: write what has come now (a flush). */
export type ToWriter = RowsMessage | { type: 'commit' } | { type: 'close' };

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

export type FromWriter = { type: 'ready' } | { type: 'fatal'; message: string } | Committed;
