/** The pipeline's stages and sinks; the event types come from the runtime that emits them. */
export type { Column, Emit, TrackerEvent } from '../runtime/events.js';
import type { Emit, TrackerEvent } from '../runtime/events.js';

/**
 * A pipeline stage. It passes an event by calling `next(ev)`, drops it by not calling it,
 * transforms it by passing a changed event, and fans out by calling `next` several times.
 */
export interface Handler {
  readonly name: string;
  handle(ev: TrackerEvent, next: Emit): void;
  close?(): void | Promise<void>;
}

/** The end of a pipeline: writes events somewhere, never blocking the event loop. */
export interface Sink {
  readonly name: string;
  write(ev: TrackerEvent): void;
  /** Events written, and events dropped because the destination could not keep up. */
  stats(): { written: number; dropped: number };
  close(): Promise<void>;
}
