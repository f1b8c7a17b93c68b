/**
 * The parameters of a query (GET /query, `eunomia query`), checked: every mistake is an
 * E_REQUEST naming the parameter and saying what is accepted.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { CompileContext } from '../rules/condition.js';
import type { StoredKind } from '../store/types.js';
import { parseDuration, parseTime } from './time.js';
import { compileWhere, FIELD_PATH, NO_DEFINITIONS, type Where } from './where.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
export const DEFAULT_SPAN_MS = 3_600_000;
/** Group-by fields at most: more is a dump, not a summary. */
export const MAX_GROUP_FIELDS = 8;
/** Time buckets at most in one answer (window / bucket). */
export const MAX_BUCKETS = 10_000;

export const PARAMS = ['where', 'kind', 'from', 'to', 'tracker', 'container', 'rule', 'instance', 'group', 'bucket', 'limit', 'order', 'before', 'after'] as const;
export type QueryParams = Partial<Record<(typeof PARAMS)[number], string>>;

export interface QuerySpec {
  kind: StoredKind;
  /** Inclusive bounds, ms since the epoch. */
  from: number;
  to: number;
  where?: Where;
  tracker?: string;
  /** A container id (12 hex digits), '' for the host. */
  container?: string;
  /** A container name, when `container` was given as one. */
  containerName?: string;
  rule?: string;
  instance?: number;
  group?: string[];
  /** With `group`: counts per time bucket of this many ms. */
  bucket?: number;
  limit: number;
  order: 'desc' | 'asc';
  /** Paging: in `desc` order, rows at time `to` with an id ≥ `before` are skipped (they were on the previous page). */
  before?: number;
  /** Paging: in `asc` order, rows at time `from` with an id ≤ `after` are skipped. */
  after?: number;
}

function bad(param: string, message: string): EunomiaError {
  return new EunomiaError(ErrorCodes.REQUEST, `parameter "${param}": ${message}`);
}

const ID = /^[1-9]\d{0,15}$/;
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

/**
 * Checks raw parameters (strings; a parameter given twice arrives as an array and is refused)
 * against `now`; `defs` are the macros and lists `where` may use.
 */
export function parseQuery(raw: Record<string, unknown>, now: number, defs: CompileContext = NO_DEFINITIONS): QuerySpec {
  const p: QueryParams = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(PARAMS as readonly string[]).includes(k)) throw bad(k, `unknown parameter; the parameters are ${PARAMS.join(', ')}`);
    if (v === undefined) continue;
    if (typeof v !== 'string') throw bad(k, 'given more than once; give it once');
    p[k as keyof QueryParams] = v;
  }
  const kind = p.kind ?? 'event';
  if (kind !== 'event' && kind !== 'alert') throw bad('kind', `"${kind}" is neither "event" nor "alert"`);
  const time = (name: 'from' | 'to'): number | undefined => {
    const v = p[name];
    if (v === undefined) return undefined;
    const t = parseTime(v, now);
    if (typeof t === 'string') throw bad(name, t);
    return t;
  };
  let from = time('from');
  let to = time('to');
  to ??= now;
  from ??= to - DEFAULT_SPAN_MS;
  if (from > to) throw bad('from', `${new Date(from).toISOString()} is after "to" (${new Date(to).toISOString()})`);

  const spec: QuerySpec = { kind, from, to, limit: DEFAULT_LIMIT, order: 'desc' };
  if (p.order !== undefined) {
    if (p.order !== 'desc' && p.order !== 'asc') throw bad('order', `"${p.order}" is neither "desc" (newest first) nor "asc"`);
    spec.order = p.order;
  }
  if (p.limit !== undefined) {
    if (!/^\d+$/.test(p.limit) || Number(p.limit) < 1 || Number(p.limit) > MAX_LIMIT) throw bad('limit', `"${p.limit}" is not a whole number from 1 to ${MAX_LIMIT}`);
    spec.limit = Number(p.limit);
  }
  if (p.where !== undefined && p.where.trim() !== '') spec.where = compileWhere(p.where, defs);
  if (p.tracker !== undefined) spec.tracker = p.tracker;
  if (p.rule !== undefined) spec.rule = p.rule;
  if (p.container !== undefined) {
    // An id (or its first 12 digits) goes to the index; "host" is the host's ''; anything else is a name.
    if (p.container === 'host') spec.container = '';
    else if (CONTAINER_ID.test(p.container)) spec.container = p.container.slice(0, 12);
    else spec.containerName = p.container;
  }
  if (p.instance !== undefined) {
    if (!ID.test(p.instance)) throw bad('instance', `"${p.instance}" is not an instance id (a positive integer)`);
    spec.instance = Number(p.instance);
  }
  if (p.group !== undefined) {
    const fields = p.group.split(',').map((f) => f.trim());
    for (const f of fields) if (!FIELD_PATH.test(f)) throw bad('group', `"${f}" is not a field path (like comm, container.name, evt.tracker)`);
    if (fields.length > MAX_GROUP_FIELDS) throw bad('group', `${fields.length} fields; at most ${MAX_GROUP_FIELDS}`);
    if (new Set(fields).size !== fields.length) throw bad('group', 'a field is named twice');
    spec.group = fields;
  }
  if (p.bucket !== undefined) {
    if (!spec.group) throw bad('bucket', 'counts per time bucket need "group" (the fields to count by)');
    const ms = parseDuration(p.bucket);
    if (ms === undefined || ms < 1000) throw bad('bucket', `"${p.bucket}" is not a duration of 1s or more (30s, 5m, 1h, 1d)`);
    if ((to - from) / ms > MAX_BUCKETS) throw bad('bucket', `the window holds ${Math.ceil((to - from) / ms)} buckets of ${p.bucket}; at most ${MAX_BUCKETS}: take a larger bucket or a shorter window`);
    spec.bucket = ms;
  }
  for (const name of ['before', 'after'] as const) {
    const v = p[name];
    if (v === undefined) continue;
    if (!ID.test(v)) throw bad(name, `"${v}" is not a row id (a positive integer)`);
    if (spec.group) throw bad(name, 'pages are of rows: drop it with "group"');
    if ((name === 'before') !== (spec.order === 'desc')) throw bad(name, `"${name}" pages ${name === 'before' ? 'newest first (order=desc)' : 'oldest first (order=asc)'}`);
    spec[name] = Number(v);
  }
  return spec;
}
