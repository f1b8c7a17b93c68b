/**
 * A stored row's record as JSON text: the TrackerEvent (or Alert) as it went out.
 *
 * JSON.stringify, which makes one flat string. A writer of our own that skips the shared
 * container fields (their JSON is kept with them, JSON_TEXT) took ~40 % less time per event
 * in a loop, and more in the agent: the many short strings it joins are garbage, and the rope
 * they form is copied flat again when the chunk is posted to the writer (bench/store.ts, the
 * main thread's garbage collection and postMessage time).
 *
 * Where JSON.stringify throws (a u64 beyond 2^53 decodes to a bigint), the exporters' writer
 * takes over: a bigint is written as its digits, as `--fmt json` writes it.
 */
import { toJson } from '../exporters/json.js';

export function recordJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return toJson(v) ?? 'null';
  }
}
