import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Column, TrackerEvent } from '../pipeline/types.js';
import { toJson } from './json.js';

export type Format = 'plain' | 'json' | 'csv';

/** Columns to show for a tracker; an empty list (or undefined) means "the event's top-level data fields". */
export type ColumnsFor = (tracker: string) => readonly Column[] | undefined;
/** A tracker's own plain-text form of its events (multi-line, e.g. a histogram), if it has one. */
export type CustomFor = (tracker: string) => ((data: Record<string, unknown>) => string) | undefined;

const ALIASES = new Map<string, Format>([
  ['plain', 'plain'],
  ['plain_text', 'plain'],
  ['plain_txt', 'plain'],
  ['text', 'plain'],
  ['table', 'plain'],
  ['json', 'json'],
  ['json_format', 'json'],
  ['csv', 'csv'],
]);

export function parseFormat(s: string): Format {
  const f = ALIASES.get(String(s).trim().toLowerCase());
  if (f === undefined) {
    throw new EunomiaError(ErrorCodes.USAGE, `unknown output format "${s}" — use plain, json or csv`);
  }
  return f;
}

/** Default text of a field value: '' for undefined/null, hex for bytes, JSON for objects and arrays. */
export function valueText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'undefined':
      return '';
    case 'object':
      if (v === null) return '';
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
      if (v instanceof Error) return `${v.name}: ${v.message}`;
      return toJson(v) ?? '';
    default:
      return String(v);
  }
}

/** A column made ready for rendering: header text, width and a value-to-text function. */
export interface ResolvedColumn {
  key: string;
  header: string;
  width: number;
  /** Display text (Column.format applied): tables. */
  text(ev: TrackerEvent): string;
  /** The value itself as text, unformatted: machine-readable outputs (CSV). */
  raw(ev: TrackerEvent): string;
}

export function resolveColumns(columns: readonly Column[] | undefined, ev: TrackerEvent): ResolvedColumn[] {
  const cols: readonly Column[] =
    columns && columns.length > 0 ? columns : Object.keys(ev.data ?? {}).map((key) => ({ key }));
  return cols.map((c) => {
    const header = c.header ?? c.key.toUpperCase();
    const get = fieldGetter(c.key);
    const fmt = c.format;
    return {
      key: c.key,
      header,
      width: Math.max(header.length, c.width ?? 0),
      raw: (ev) => valueText(get(ev.data)),
      text: fmt
        ? (ev) => {
            const v = get(ev.data);
            try {
              return String(fmt(v, ev));
            } catch {
              return valueText(v); // a broken formatter still shows the raw value
            }
          }
        : (ev) => valueText(get(ev.data)),
    };
  });
}

/** Reads `key` from data; a dotted key is a path into nested objects unless data has it literally. */
export function fieldGetter(key: string): (data: Record<string, unknown>) => unknown {
  if (!key.includes('.')) return (d) => d?.[key];
  const parts = key.split('.');
  return (d) => {
    if (d == null) return undefined;
    if (key in d) return d[key];
    let v: unknown = d;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

let clockSecond = NaN;
let clockText = '';

/** HH:MM:SS in local time; cached per second since events come in bursts. */
export function localClock(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return '??:??:??';
  const sec = Math.floor(ms / 1000);
  if (sec !== clockSecond) {
    const d = new Date(ms);
    clockText = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    clockSecond = sec;
  }
  return clockText;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Per-tracker layouts (columns, header) for plain and csv. With `multiTracker` undefined the
 * sink starts in single-tracker mode and switches to multi-tracker mode (tracker column, headers
 * printed again) when a second tracker shows up; true/false fix the mode.
 */
export function layoutsPerTracker<L extends { headerPending: boolean }>(
  build: (ev: TrackerEvent, multi: boolean) => L,
  multiTracker: boolean | undefined,
): (ev: TrackerEvent) => L {
  const layouts = new Map<string, L>();
  let multi = multiTracker ?? false;
  return (ev) => {
    let l = layouts.get(ev.tracker);
    if (l === undefined) {
      if (multiTracker === undefined && !multi && layouts.size > 0) {
        multi = true;
        layouts.clear();
      }
      l = build(ev, multi);
      layouts.set(ev.tracker, l);
    }
    return l;
  };
}
