/**
 * Events as the table shows them: one shape for the live stream's flat JSON lines and the
 * store's rows, the columns, the one-line summary of the rest, and the column filters.
 * Every value here is attacker-controlled text (paths, command lines, container labels): it
 * is only ever handed to Preact as text.
 */

export interface EventRow {
  /** Unique within the page. */
  key: number;
  /** ms since the epoch. */
  time: number;
  tracker: string;
  instance: number;
  data: Record<string, unknown>;
  /** From the store (GET /query), not the live stream. */
  history?: boolean;
}

let nextKey = 1;

/** A stream line: `{time: ISO, tracker, instance, ...data}` (src/exporters/json.ts). */
export function fromStream(o: Record<string, unknown>): EventRow {
  const { time, tracker, instance, ...data } = o;
  return { key: nextKey++, time: typeof time === 'string' ? Date.parse(time) : Number(time), tracker: String(tracker ?? ''), instance: Number(instance ?? 0), data };
}

/** A stored row's record: the TrackerEvent `{tracker, instance, time, data}`. */
export function fromStored(r: { time: string | number; tracker: string; instance?: number; record: Record<string, unknown> }): EventRow {
  const rec = r.record;
  const data = rec.data !== null && typeof rec.data === 'object' ? (rec.data as Record<string, unknown>) : rec;
  const t = typeof r.time === 'string' ? Date.parse(r.time) : r.time;
  return { key: nextKey++, time: t, tracker: String(rec.tracker ?? r.tracker), instance: Number(rec.instance ?? r.instance ?? 0), data, history: true };
}

export function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.map(text).join(' ');
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function clock(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function containerName(d: Record<string, unknown>): string {
  const c = d.container as { name?: unknown } | undefined;
  return c && typeof c === 'object' ? text(c.name) : '';
}

/** Fields the other columns show, or that say little on one line. */
const NOT_IN_SUMMARY = new Set(['pid', 'tid', 'comm', 'container', 'k8s', 'cgroup_id', 'pid_ns', 'mnt_ns', 'user_ns', 'uid', 'gid', 'ppid', 'vpid', 'vppid', 'foreign_exe', 'caps', 'cap_effective', 'path_env', 'args', 'args_size', 'args_truncated', 'glibc_tunables_len']);
/** What comes first on the line when an event has it. */
const FIRST = ['type', 'syscall', 'cmdline', 'filename', 'path', 'target', 'daddr', 'dport', 'saddr', 'sport', 'error'];
const SUMMARY_MAX = 400;

/** One line for the event's own fields: the telling ones first, `name=value` for the rest. */
export function summary(d: Record<string, unknown>): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  const add = (k: string): void => {
    seen.add(k);
    const v = d[k];
    if (v === undefined || v === null || v === '' || (typeof v === 'object' && !Array.isArray(v))) return;
    parts.push(k === 'type' || k === 'syscall' ? text(v) : `${k}=${text(v)}`);
  };
  for (const k of FIRST) if (k in d) add(k);
  for (const k of Object.keys(d)) {
    if (seen.has(k) || NOT_IN_SUMMARY.has(k) || k.endsWith('_raw')) continue;
    add(k);
    if (parts.join(' ').length > SUMMARY_MAX) break;
  }
  const s = parts.join(' ');
  return s.length > SUMMARY_MAX ? `${s.slice(0, SUMMARY_MAX)}…` : s;
}

export interface Column {
  id: string;
  title: string;
  value(r: EventRow): string;
  /** The field path of the rules' language for this column (a filter on it can go to the agent). */
  field?: string;
}

export const COLUMNS: Column[] = [
  { id: 'time', title: 'Time', value: (r) => clock(r.time) },
  { id: 'tracker', title: 'Tracker', value: (r) => r.tracker, field: 'evt.tracker' },
  { id: 'container', title: 'Container', value: (r) => containerName(r.data), field: 'container.name' },
  { id: 'pid', title: 'PID', value: (r) => text(r.data.pid), field: 'pid' },
  { id: 'comm', title: 'Process', value: (r) => text(r.data.comm), field: 'comm' },
  { id: 'event', title: 'Event', value: (r) => summary(r.data) },
];

/**
 * A column filter: `=x` is exactly x, `!x` does not contain x, anything else contains it.
 * Case counts, as in the rules' `contains`: the history the agent returns matches the same rows.
 */
export type Filters = Record<string, string>;

export function compileFilters(filters: Filters): (r: EventRow) => boolean {
  const tests: ((r: EventRow) => boolean)[] = [];
  for (const col of COLUMNS) {
    const f = filters[col.id];
    if (!f) continue;
    if (f.startsWith('=')) {
      const want = f.slice(1);
      tests.push((r) => col.value(r) === want);
    } else if (f.startsWith('!')) {
      const not = f.slice(1);
      if (not) tests.push((r) => !col.value(r).includes(not));
    } else tests.push((r) => col.value(r).includes(f));
  }
  return (r) => tests.every((t) => t(r));
}

/** A value quoted for the rules' language (a backslash escapes a quote or a backslash). */
export function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `field = value` in the rules' language. */
export function equals(field: string, v: unknown): string {
  return `${field} = ${typeof v === 'number' && Number.isFinite(v) ? String(v) : quote(text(v))}`;
}

/**
 * The column filters the agent can evaluate too, as a condition: the history it returns then
 * matches them (its row limit is not spent on rows the page would hide).
 */
export function filtersAsCondition(filters: Filters): string[] {
  const out: string[] = [];
  for (const col of COLUMNS) {
    const f = filters[col.id];
    if (!f || !col.field) continue;
    if (f.startsWith('=')) {
      const v = f.slice(1);
      out.push(col.id === 'pid' && /^\d+$/.test(v) ? `${col.field} = ${v}` : `${col.field} = ${quote(v)}`);
    } else if (f.startsWith('!')) {
      if (f.length > 1 && col.id !== 'pid') out.push(`not ${col.field} contains ${quote(f.slice(1))}`);
    } else if (col.id !== 'pid') out.push(`${col.field} contains ${quote(f)}`);
  }
  return out;
}

/** Every leaf of an object as `path → value`, for the detail pane. */
export function flatten(o: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, o]);
  return out;
}
