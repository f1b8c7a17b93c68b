import type { TrackerEvent } from '../pipeline/types.js';

/**
 * JSON text for any value, never throwing. Differences from JSON.stringify:
 * - bigint → a JSON number with its exact digits (parsers that want exactness can read it as such);
 * - Uint8Array / Buffer / DataView → lowercase hex string (compact, and the bytes are kept exactly);
 *   other typed arrays → arrays of numbers;
 * - Map → object (keys via String), Set → array;
 * - NaN / ±Infinity → null; circular references → "[Circular]";
 * - a value that throws while being read (getter, toJSON) → "[unserializable: message]".
 * Returns undefined for undefined, functions and symbols (omitted in objects, null in arrays).
 */
/**
 * An object may carry its own JSON text under this key (non-enumerable), for values shared by
 * many events and never changed: the pipeline's container fields (containers/enrich.ts).
 */
export const JSON_TEXT: unique symbol = Symbol.for('eunomia.jsonText');

/** Freezes `obj` and attaches its JSON text, computed once. */
export function withJsonText<T extends object>(obj: T): Readonly<T> {
  Object.defineProperty(obj, JSON_TEXT, { value: ser(obj, []), enumerable: false });
  return Object.freeze(obj);
}

export function toJson(value: unknown): string | undefined {
  return ser(value, []);
}

function ser(v: unknown, stack: object[]): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      const pre = (v as { [JSON_TEXT]?: unknown })[JSON_TEXT];
      if (typeof pre === 'string') return pre;
      if (stack.includes(v)) return '"[Circular]"';
      stack.push(v);
      try {
        return serObject(v, stack);
      } catch (err) {
        return JSON.stringify(`[unserializable: ${err instanceof Error ? err.message : 'error'}]`);
      } finally {
        stack.pop();
      }
    }
    default:
      return undefined; // undefined, function, symbol
  }
}

function serObject(v: object, stack: object[]): string {
  if (ArrayBuffer.isView(v)) {
    if (v instanceof Uint8Array || v instanceof DataView) return `"${bytesHex(v)}"`;
    return serList(Array.from(v as unknown as ArrayLike<number | bigint>), stack);
  }
  if (v instanceof ArrayBuffer) return `"${Buffer.from(v).toString('hex')}"`;
  if (Array.isArray(v)) return serList(v, stack);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'null' : `"${v.toISOString()}"`;
  if (v instanceof Map) return serEntries(Array.from(v, ([k, x]) => [String(k), x] as [string, unknown]), stack);
  if (v instanceof Set) return serList(Array.from(v), stack);
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return ser(toJSON.call(v), stack) ?? 'null';
  if (v instanceof Error) return JSON.stringify(`${v.name}: ${v.message}`);
  return serEntries(Object.entries(v), stack);
}

function serList(items: readonly unknown[], stack: object[]): string {
  let s = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) s += ',';
    s += ser(items[i], stack) ?? 'null';
  }
  return s + ']';
}

function serEntries(entries: [string, unknown][], stack: object[]): string {
  let s = '{';
  let first = true;
  for (const [k, x] of entries) {
    const t = ser(x, stack);
    if (t === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + t;
    first = false;
  }
  return s + '}';
}

function bytesHex(v: ArrayBufferView): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

let isoSecond = NaN;
let isoPrefix = '';

/**
 * ISO-8601 (UTC, ms) for a time in ms since the epoch, or null when it is not a valid date.
 * Same text as Date#toISOString, with the part up to the second cached (it dominated the cost).
 */
export function isoTime(ms: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  const t = Math.trunc(ms); // as the Date constructor does
  const sec = Math.floor(t / 1000);
  if (sec !== isoSecond) {
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, -4); // drop "000Z"
    isoSecond = sec;
  }
  const milli = t - sec * 1000;
  return isoPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

const ENVELOPE = new Set(['time', 'tracker', 'instance']);

// Field names repeat on every event; quoting them once saves a JSON.stringify per field.
const keyCache = new Map<string, string>();

function quotedKey(k: string): string {
  let q = keyCache.get(k);
  if (q === undefined) {
    q = JSON.stringify(ENVELOPE.has(k) ? `_${k}` : k) + ':';
    if (keyCache.size < 4096) keyCache.set(k, q); // bounded: keys could come from untrusted data
  }
  return q;
}

// Events come in runs from one instance: its `,"tracker":…,"instance":…` text made once per run.
let lastTracker: unknown;
let lastInstance: unknown;
let lastSource = '';

function sourceText(tracker: unknown, instance: unknown): string {
  if (tracker !== lastTracker || instance !== lastInstance) {
    lastSource = `,"tracker":${ser(String(tracker), [])},"instance":${ser(instance, []) ?? 'null'}`;
    lastTracker = tracker;
    lastInstance = instance;
  }
  return lastSource;
}

/**
 * One JSON line (with "\n"): {"time": ISO, "tracker", "instance", ...data}. Data fields are at
 * top level; a data field named like an envelope field is written with a leading "_"
 * (e.g. "_time") so neither is lost.
 */
export function jsonLine(ev: TrackerEvent): string {
  const t = isoTime(ev.time);
  const head = `{"time":${t === null ? 'null' : `"${t}"`}${sourceText(ev.tracker, ev.instance)}`;
  let body = '';
  try {
    const data = ev.data;
    if (data !== null && typeof data === 'object') {
      const stack: object[] = [data];
      for (const k of Object.keys(data)) {
        const x = ser((data as Record<string, unknown>)[k], stack);
        if (x === undefined) continue;
        body += ',' + quotedKey(k) + x;
      }
    }
  } catch (err) {
    body = ',"error":' + JSON.stringify(`unserializable event: ${err instanceof Error ? err.message : 'error'}`);
  }
  return head + body + '}\n';
}
