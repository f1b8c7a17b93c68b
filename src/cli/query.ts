/** `eunomia query …`: asks a running server's event store (GET /query) and prints a table or JSON. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { valueText } from '../exporters/index.js';
import { resolveColumns } from '../exporters/format.js';
import { escapeControls } from '../exporters/plain.js';
import type { AnswerRow, QueryAnswer } from '../query/index.js';
import type { TrackerEvent } from '../pipeline/types.js';
import { trackers } from '../trackers/registry.js';

export const QUERY_HELP = `Usage: eunomia query [--where EXPR] [--kind event|alert] [--from T] [--to T] [--group FIELDS [--bucket D]]
                     [--limit N] [--order desc|asc] [--tracker NAME] [--container ID|NAME|host] [--rule ID]
                     [--instance ID] [--json] [--server URL] [--token TOKEN | --token-file FILE]

Asks the server's event store: the rows of a time window (newest first), or with --group the
number of rows per value of those fields. The answer says the window it covers and, when the
store no longer holds all of it (evicted or dropped rows), that it is incomplete.

  --where EXPR     a condition in the rules' language (docs/rules.md): comm = curl and container.name = web;
                   for alerts, paths into the alert: rule, priority, process.comm, container.name
  --kind KIND      event (default) or alert
  --from, --to T   ISO-8601, ms since the epoch, "now" or relative (-15m, -2h, -7d); default: the last hour
  --group FIELDS   comma-separated fields (comm,container.name): counts per group, most first
  --bucket D       with --group: per time bucket too (1m, 1h)
  --limit N        rows or groups at most (1–10000, default 100)
  --json           print the server's answer as JSON (docs/query.md)

The server defaults to http://127.0.0.1:8527 (or $EUNOMIA_SERVER); the token to $EUNOMIA_TOKEN.

Examples:
  eunomia query --where 'comm = curl' --from -15m
  eunomia query --group container.name,comm --from -1d
  eunomia query --kind alert --group rule,priority --bucket 1h --from -1d
  eunomia query --kind alert --where 'priority in (critical, error)' --json
`;

const PASSED = ['where', 'kind', 'from', 'to', 'group', 'bucket', 'limit', 'order', 'tracker', 'container', 'rule', 'instance', 'before', 'after'] as const;

function usage(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, `${msg} — see "eunomia query --help"`);
}

async function getJson(base: string, token: string | undefined, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new EunomiaError(ErrorCodes.IO, `cannot reach the server at ${base}: ${cause?.code ?? cause?.message ?? (e as Error).message} — is "eunomia server" running?`);
  }
  const text = await res.text();
  let json: { error?: { code?: string; message?: string } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new EunomiaError(ErrorCodes.IO, `the server at ${base} answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) throw new EunomiaError(ErrorCodes.REQUEST, `server: ${res.status} ${json?.error?.code ?? ''} ${json?.error?.message ?? text}`.replace(/\s+/g, ' ').trim());
  return json;
}

/** Columns padded to their widest cell; the last one not padded. Cells are already escaped. */
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((v, c) => (c < r.length - 1 ? v.padEnd(w[c]!) : v)).join('  ').trimEnd()).join('\n') + '\n';
}

const cell = (v: unknown): string => escapeControls(valueText(v));
/** Local-free time: the ISO text without its "T" and "Z" (the answer's times are UTC). */
const when = (iso: string): string => iso.replace('T', ' ').replace(/Z$/, '');
const SHOWN = new Set(['comm', 'container.name', 'container', 'time']);

/** An event's own fields, as its tracker's table shows them (comm and container have their columns). */
function detail(r: AnswerRow): string {
  const ev = r.record as unknown as TrackerEvent;
  if (!ev.data || typeof ev.data !== 'object') return cell(r.record);
  const cols = resolveColumns(trackers.find((t) => t.name === r.tracker)?.columns, ev).filter((c) => !SHOWN.has(c.key));
  return cols.map((c) => [c.header, escapeControls(c.text(ev))] as const).filter(([, v]) => v !== '').map(([h, v]) => `${h}=${v}`).join(' ');
}

export function answerText(a: QueryAnswer): string {
  if (a.groups) {
    const fields = a.groups[0] ? Object.keys(a.groups[0].key) : [];
    return table([...fields.map((f) => f.toUpperCase()), 'COUNT'], a.groups.map((g) => [...fields.map((f) => cell(g.key[f] ?? '')), String(g.count)]));
  }
  const place = (r: AnswerRow): string => cell(r.container === '' ? 'host' : r.containerName || r.container);
  if (a.kind === 'alert') {
    return table(['TIME', 'PRIORITY', 'RULE', 'CONTAINER', 'COMM', 'MESSAGE'], (a.rows ?? []).map((r) => [
      when(r.time), cell(r.record.priority), cell(r.rule), place(r), cell(r.comm), cell(r.record.message),
    ]));
  }
  return table(['TIME', 'TRACKER', 'CONTAINER', 'COMM', 'DETAIL'], (a.rows ?? []).map((r) => [when(r.time), cell(r.tracker), place(r), cell(r.comm), detail(r)]));
}

/** What the answer covers, for stderr: the window, the counts, and what is missing from it. */
export function answerSummary(a: QueryAnswer): string {
  const n = a.groups ? `${a.groups.length} groups of ${a.matched} rows` : `${a.rows?.length ?? 0} rows`;
  const lines = [`window ${when(a.window.from)} → ${when(a.window.to)} UTC: ${n} (${a.scanned} scanned)`];
  if (!a.complete) {
    const why = [];
    if (a.oldest !== null && a.oldest > a.window.from) why.push(`the store holds rows from ${when(a.oldest)} only`);
    if (a.dropped > 0) why.push(`${a.dropped} rows of the window were evicted or dropped`);
    lines.push(`incomplete: ${why.join('; ')}`);
  }
  if (a.more) {
    if (a.next) lines.push(`more: next page with ${Object.entries(a.next).map(([k, v]) => `--${k} ${v}`).join(' ')}`);
    else lines.push(`more: ${a.groupsTotal ?? ''} groups in all${a.other ? `, ${a.other} rows past the group limit` : ''}; raise --limit`);
  }
  return lines.join('\n') + '\n';
}

/** `--from -15m` as `--from=-15m`: a relative time starts with a dash, which parseArgs takes for a flag. */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if ((PASSED as readonly string[]).includes(a.slice(2)) && a.startsWith('--') && next?.startsWith('-')) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export async function queryCommand(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinDashValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(PASSED.map((k) => [k, { type: 'string' as const }])),
        json: { type: 'boolean' }, server: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usage((e as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    io.stdout.write(QUERY_HELP);
    return 0;
  }
  let token = (v.token as string | undefined) ?? process.env.EUNOMIA_TOKEN;
  if (v['token-file']) token = readFileSync(v['token-file'] as string, 'utf8').trim();
  const base = String(v.server ?? process.env.EUNOMIA_SERVER ?? 'http://127.0.0.1:8527').replace(/\/+$/, '');
  const qs = new URLSearchParams();
  for (const k of PASSED) if (typeof v[k] === 'string') qs.set(k, v[k]);
  const a = (await getJson(base, token, `/query?${qs}`)) as QueryAnswer;
  if (v.json) {
    io.stdout.write(JSON.stringify(a) + '\n');
    return 0;
  }
  io.stdout.write(answerText(a));
  io.stderr.write(answerSummary(a));
  return 0;
}
