/**
 * `where` of a query: a condition in the rules' language (src/rules/condition.ts), parsed,
 * resolved and evaluated by the rules' own code against each stored row seen as the rules see
 * an event. An event row is its TrackerEvent; an alert row is its Alert as the event's `data`
 * (so `rule`, `priority`, `process.comm`, `container.name` are paths into the Alert), with
 * `evt.tracker` its source tracker and `evt.time` its time.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { TrackerEvent } from '../pipeline/types.js';
import { fieldGetter, parseCondition, predicate, resolveCondition, type CompileContext, type Expr, type Fail } from '../rules/condition.js';
import type { StoredRow } from '../store/types.js';

export type RowTest = (row: StoredRow) => boolean;
export type RowGetter = (row: StoredRow) => unknown;

/** No macros and no lists: what a condition may name when no rule set is given. */
export const NO_DEFINITIONS: CompileContext = { macro: () => undefined, list: () => undefined, macroNames: () => [], listNames: () => [] };

/** The row as the rules see an event (no copy for events; a small wrapper for alerts). */
export function eventOf(row: StoredRow): TrackerEvent {
  const r = row.record;
  if (row.kind === 'event' && r.data !== null && typeof r.data === 'object') return r as unknown as TrackerEvent;
  return { tracker: row.tracker, instance: row.instance, time: row.time, data: r };
}

/** A field path as a group-by or a condition names it (`comm`, `container.name`, `evt.tracker`). */
export const FIELD_PATH = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

export function rowGetter(path: string): RowGetter {
  const get = fieldGetter(path);
  return (row) => get(eventOf(row));
}

export interface Where {
  expr: Expr;
  test: RowTest;
}

/**
 * Compiles `text`; a mistake is an E_REQUEST naming the parameter and the column, with the
 * compiler's message. `defs` gives the macros and lists it may use.
 */
export function compileWhere(text: string, defs: CompileContext = NO_DEFINITIONS): Where {
  const fail: Fail = (offset, message) => {
    throw new EunomiaError(ErrorCodes.REQUEST, `parameter "where", column ${offset + 1}: ${message} (in: ${text})`);
  };
  const expr = resolveCondition(parseCondition(text, fail), defs, fail);
  const p = predicate(expr);
  return { expr, test: (row) => p(eventOf(row)) };
}

/** Exact values of indexed columns that the condition requires: the scan can ask the index for them. */
export interface ScanHints {
  tracker?: string;
  /** A container id of 12 hex digits, or '' for the host. */
  container?: string;
}

/**
 * What the top-level `and`s of a condition fix: `evt.tracker = X`, `container.id = <id>`. The
 * condition is still evaluated on every row, so a hint only narrows the scan to rows it could
 * match.
 */
export function scanHints(e: Expr, out: ScanHints = {}): ScanHints {
  if (e.t === 'and') {
    scanHints(e.a, out);
    scanHints(e.b, out);
  } else if (e.t === 'str' && e.op === '=') {
    if (e.field === 'evt.tracker') out.tracker ??= e.s;
    // The store keys containers by their 12-digit id; the host's events carry id "host".
    else if (e.field === 'container.id' && (/^[0-9a-f]{12}$/.test(e.s) || e.s === 'host')) out.container ??= e.s === 'host' ? '' : e.s;
  }
  return out;
}
