/**
 * A value as a stored record writes it: an alert, an event of no plain form, a nested value of
 * an event (src/store/values.ts writes plain events from their values, to the same text).
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
