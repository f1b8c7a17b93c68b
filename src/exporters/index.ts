import type { Writable } from 'node:stream';
import { csvRenderer } from './csv.js';
import { parseFormat, type ColumnsFor, type CustomFor, type Format } from './format.js';
import { jsonLine } from './json.js';
import { plainRenderer } from './plain.js';
import { StreamSink } from './stream-sink.js';

export { parseFormat, valueText, type ColumnsFor, type CustomFor, type Format } from './format.js';
export { toJson, jsonLine, withJsonText, JSON_TEXT } from './json.js';
export { csvField } from './csv.js';
export { SseClient, DEFAULT_CLIENT_BUFFER, type SseOutput } from './sse.js';
export {
  DEFAULT_FLUSH_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  StreamSink,
  openOutput,
  type StreamSinkOptions,
  type StreamSinkStats,
} from './stream-sink.js';

export interface CreateSinkOptions {
  /** A Format or any alias parseFormat accepts. */
  format: Format | string;
  /** Columns per tracker for plain and csv (ignored by json). Missing/empty → the event's data fields. */
  columnsFor?: ColumnsFor;
  /** Plain format only: trackers that render their events themselves (histograms). */
  plainFor?: CustomFor;
  output: Writable;
  /** Sink name in pipeline stats; default: the format. */
  name?: string;
  maxQueuedBytes?: number;
  /**
   * Several trackers share this output: plain/csv add a tracker column. Undefined: start
   * without it and switch (headers printed again) when a second tracker appears.
   */
  multiTracker?: boolean;
  /** end() the output on close(); default true except for stdout/stderr. */
  closeOutput?: boolean;
  /** Writes at most once per this many ms (StreamSinkOptions.flushMs); default 100. */
  flushMs?: number;
}

export function createSink(opts: CreateSinkOptions): StreamSink {
  const format = parseFormat(opts.format);
  const render =
    format === 'json'
      ? jsonLine
      : format === 'csv'
        ? csvRenderer(opts.columnsFor, opts.multiTracker)
        : plainRenderer(opts.columnsFor, opts.multiTracker, opts.plainFor);
  return new StreamSink({
    name: opts.name ?? format,
    output: opts.output,
    render,
    maxQueuedBytes: opts.maxQueuedBytes,
    closeOutput: opts.closeOutput,
    flushMs: opts.flushMs,
  });
}
