/** `eunomia client …`: talks to a running `eunomia server` over its API. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { embeddedBpfObjects } from '../core/elf.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { OptionValues } from '../runtime/types.js';
import { findTracker } from '../trackers/registry.js';
import { parseRunArgs } from './args.js';
import { fileBtf, headerBtf } from './header-btf.js';
import { sseMessages } from './sse.js';

export const CLIENT_HELP = `Usage: eunomia client [--server URL] [--token TOKEN | --token-file FILE] <command>

Commands:
  list                           running instances, with their counters
  trackers                       the server's tracker catalogue
  start <tracker> [flags…]       start a tracker (its flags as for "eunomia run <tracker>")
  stop <id>                      stop an instance
  push <file> [--name N] [--event STRUCT] [--set VAR=VALUE]… [--replace ID] [--follow]
       [--header TOOL.h [-I DIR]… | --btf FILE | --raw] [--fallback PROG,PROG]… [-- PROGRAM FLAGS…]
                                 load a compiled eBPF object (.o), the one a libbpf skeleton tool embeds
                                 (e.g. /usr/sbin/opensnoop), or a package (.json) into the server;
                                 --replace swaps the program of instance ID in place, --follow streams its events;
                                 --header compiles the event struct --event from the tool's header with clang
                                 and sends its BTF (for objects whose BTF lacks it, e.g. libbpf-tools');
                                 --btf sends that BTF from a raw BTF file or an object's .BTF instead;
                                 --raw streams records undecoded (base64); --fallback: alternative programs, best first;
                                 after --, the program's own flags: its globals (an eunomia-bpf package's as ecli names them)
  events <id|all>                stream events as JSON lines until the instance stops (Ctrl-C to leave)

The server defaults to http://127.0.0.1:8527 (or $EUNOMIA_SERVER); the token to $EUNOMIA_TOKEN.
--header uses $CLANG, else clang-16 or clang on PATH, and vmlinux.h from the package's bpf/include
(a -I DIR with a vmlinux.h of its own comes first).

Examples:
  eunomia client push opensnoop.bpf.o --header libbpf-tools/opensnoop.h --event event --follow
  eunomia client push opensnoop.bpf.o --btf event.btf --event event
  eunomia client push tool.bpf.o --raw --fallback handle_fentry,handle_tp
  eunomia client push runqlat/package.json --follow -- --targ_pid 42
`;

interface Conn {
  base: string;
  token?: string;
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

function usage(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, `${msg} — see "eunomia client --help"`);
}

async function call(conn: Conn, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(conn.base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new EunomiaError(ErrorCodes.IO, `cannot reach the server at ${conn.base}: ${cause?.code ?? cause?.message ?? (e as Error).message} — is "eunomia server" running?`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new EunomiaError(ErrorCodes.IO, `the server at ${conn.base} answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const err = (json as ErrorBody | undefined)?.error;
    throw new EunomiaError(ErrorCodes.REQUEST, `server: ${res.status} ${err?.code ?? ''} ${err?.message ?? text}`.replace(/\s+/g, ' ').trim());
  }
  return json;
}

export interface InstanceJson {
  id: number;
  /** Programs of the object left out, and why (fallbacks, a kernel without their hook). */
  skipped?: { program: string; reason: string }[];
  /** What of a package is not done as its own runner would. */
  warnings?: string[];
  name: string;
  kind: string;
  startedAt: string;
  stats: { events: number; lostKernel: number; lostQueue: number; decodeErrors: number };
}

export function instancesTable(list: InstanceJson[]): string {
  const rows = list.map((i) => [String(i.id), i.name, i.kind, String(i.stats.events), String(i.stats.lostKernel + i.stats.lostQueue), String(i.stats.decodeErrors ?? 0), i.startedAt]);
  const head = ['ID', 'NAME', 'KIND', 'EVENTS', 'LOST', 'UNDECODABLE', 'STARTED'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((v, c) => (c < r.length - 1 ? v.padEnd(w[c]!) : v)).join('  ')).join('\n') + '\n';
}

export interface PushOptions {
  name?: string;
  event?: string;
  set?: string[];
  /** The tool's C header: the BTF of `event` is compiled from it (src/cli/header-btf.ts). */
  header?: string;
  /** -I dirs for compiling `header`. */
  includes?: string[];
  /** A raw BTF blob, or an ELF object whose .BTF is taken. */
  btf?: string;
  raw?: boolean;
  /** "a,b" each: alternative programs, best first. */
  fallback?: string[];
  clang?: string;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

function fallbacks(list: string[]): string[][] {
  return list.map((g) => {
    const names = g.split(',').map((n) => n.trim());
    if (names.length < 2 || names.some((n) => !/^[A-Za-z_]\w*$/.test(n))) throw usage(`--fallback expects two or more program names, best first, separated by commas (e.g. handle_fentry,handle_tp), got "${g}"`);
    return names;
  });
}

/**
 * A package from a file: a compiled object becomes {name, object, event?, btf?, raw?,
 * fallbacks?, options?} (docs/hotload.md); JSON is sent as it is.
 */
export function packageFromFile(file: string, opts: PushOptions): unknown {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new EunomiaError(ErrorCodes.IO, `cannot read ${file}: ${(e as Error).message}`);
  }
  const options: Record<string, string | number | boolean> = {};
  for (const kv of opts.set ?? []) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(kv);
    if (!m) throw usage(`--set expects VAR=VALUE, got "${kv}"`);
    const v = m[2]!;
    options[m[1]!] = /^-?\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  if (!data.subarray(0, 4).equals(ELF_MAGIC)) {
    const added = (['header', 'btf', 'raw', 'fallback'] as const).find((k) => (Array.isArray(opts[k]) ? opts[k].length > 0 : opts[k]));
    if (added) throw usage(`--${added} applies to a compiled object (.o), and ${file} is not one: in a package JSON, set "${{ header: 'btf', btf: 'btf', raw: 'raw', fallback: 'fallbacks' }[added]}" instead`);
  } else {
    if (opts.includes?.length && !opts.header) throw usage('-I is for compiling --header: add --header TOOL.h');
    if (opts.header && opts.btf) throw usage('--header and --btf both give the event type: pass one');
    if (opts.raw && (opts.header || opts.btf || opts.event)) throw usage(`--raw streams the records undecoded: drop --${opts.header ? 'header' : opts.btf ? 'btf' : 'event'}`);
    if ((opts.header || opts.btf) && !opts.event) throw usage(`--${opts.header ? 'header' : 'btf'} needs --event NAME: the struct (or typedef) of the records`);
    const btf = opts.header
      ? headerBtf(opts.header, opts.event!, { ...(opts.includes ? { includes: opts.includes } : {}), ...(opts.clang ? { clang: opts.clang } : {}) }).btf
      : opts.btf ? fileBtf(opts.btf, opts.event!).btf : undefined;
    return {
      name: opts.name ?? basename(file).replace(/\.bpf\.o$|\.o$/, ''),
      object: bpfObjectOf(data, file).toString('base64'),
      ...(opts.event ? { event: opts.event } : {}),
      ...(btf ? { btf: btf.toString('base64') } : {}),
      ...(opts.raw ? { raw: true } : {}),
      ...(opts.fallback?.length ? { fallbacks: fallbacks(opts.fallback) } : {}),
      ...(Object.keys(options).length ? { options } : {}),
    };
  }
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    throw usage(`${file} is neither an ELF object nor JSON`);
  }
}

const EM_BPF = 247;

/**
 * The eBPF object of a file: the file itself, or the one a program embeds (a libbpf skeleton
 * tool: libbpf-tools' /usr/sbin/opensnoop carries its opensnoop.bpf.o).
 */
function bpfObjectOf(data: Buffer, file: string): Buffer {
  if (data.length < 20 || data.readUInt16LE(18) === EM_BPF) return data;
  const found = embeddedBpfObjects(data);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw usage(`${file} is a program with no eBPF object inside (libbpf skeleton tools embed theirs): push its .bpf.o`);
  throw usage(`${file} embeds ${found.length} eBPF objects (${found.map((o) => `${o.length} bytes`).join(', ')}): push the .bpf.o you mean`);
}

/**
 * The options a program's own flags set (`push FILE -- --pid 42`): the package is read here as
 * the server will read it, so its flags (an eunomia-bpf package's from its globals, as ecli
 * makes them; else the globals by name) and their errors are the same. Loaded only for this.
 */
async function programOptions(pkg: unknown, flags: string[]): Promise<OptionValues> {
  const [{ parseProgramPackage, programDescriptor }, { parseTrackerArgv }] = await Promise.all([import('../hotload/index.js'), import('../runtime/argv.js')]);
  return parseTrackerArgv(programDescriptor(parseProgramPackage(pkg)), flags).options;
}

/** Prints an instance's SSE stream as JSON lines until it ends. */
async function follow(conn: Conn, id: number | 'all', out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
  const path = id === 'all' ? '/events' : `/instances/${id}/events`;
  const res = await fetch(conn.base + path, { headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {} }).catch((e: Error) => {
    throw new EunomiaError(ErrorCodes.IO, `cannot reach the server at ${conn.base}: ${e.message}`);
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as ErrorBody;
    throw new EunomiaError(ErrorCodes.REQUEST, `server: ${res.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim());
  }
  for await (const { event, data } of sseMessages(res.body as unknown as AsyncIterable<Uint8Array>)) {
    if (event === 'message') out.write(data + '\n');
    else if (event === 'dropped') err.write(`eunomia: the server dropped events for this slow client: ${data}\n`);
    else if (event === 'end') {
      err.write(`eunomia: instance ended: ${data}\n`);
      return;
    }
  }
}

export async function runClient(all: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  // "push FILE -- FLAGS…": the program's own flags (ecli's, from its globals), read against the package.
  const dd = all.includes('push') ? all.indexOf('--') : -1;
  const argv = dd >= 0 ? all.slice(0, dd) : all;
  const programFlags = dd >= 0 ? all.slice(dd + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        server: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
        name: { type: 'string' }, event: { type: 'string' }, set: { type: 'string', multiple: true }, replace: { type: 'string' }, follow: { type: 'boolean' },
        header: { type: 'string' }, include: { type: 'string', short: 'I', multiple: true }, btf: { type: 'string' }, raw: { type: 'boolean' },
        fallback: { type: 'string', multiple: true },
      },
      // Tracker flags after "start <tracker>" belong to the tracker.
      ...(argv.includes('start') ? { strict: false } : {}),
    });
  } catch (e) {
    throw usage((e as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const [cmd, ...rest] = parsed.positionals;
  if (v.help || !cmd) {
    (v.help ? io.stdout : io.stderr).write(CLIENT_HELP);
    return v.help ? 0 : 2;
  }
  let token = (v.token as string | undefined) ?? process.env.EUNOMIA_TOKEN;
  if (v['token-file']) token = readFileSync(v['token-file'] as string, 'utf8').trim();
  const conn: Conn = { base: String(v.server ?? process.env.EUNOMIA_SERVER ?? 'http://127.0.0.1:8527').replace(/\/+$/, ''), ...(token ? { token } : {}) };
  const id = (s: string | undefined): number => {
    if (!s || !/^\d+$/.test(s)) throw usage(`"${cmd}" needs an instance id (a number), got ${s === undefined ? 'nothing' : `"${s}"`}`);
    return Number(s);
  };
  switch (cmd) {
    case 'list': {
      const r = (await call(conn, 'GET', '/instances')) as { instances: InstanceJson[] };
      io.stdout.write(instancesTable(r.instances));
      return 0;
    }
    case 'trackers': {
      const r = (await call(conn, 'GET', '/trackers')) as { trackers: { name: string; summary: string }[] };
      for (const t of r.trackers) io.stdout.write(`${t.name.padEnd(12)} ${t.summary}\n`);
      return 0;
    }
    case 'start': {
      const i = argv.indexOf('start');
      const [name, ...flags] = argv.slice(i + 1);
      if (!name) throw usage('"start" needs a tracker name');
      const note = (n: string): void => void io.stderr.write(`eunomia: ${n}\n`);
      const tracker = findTracker(name, undefined, note);
      const { options, notes } = parseRunArgs(tracker, flags);
      notes.forEach(note);
      const r = (await call(conn, 'POST', '/instances', { tracker: tracker.name, options })) as InstanceJson;
      io.stdout.write(`started ${r.name} as instance ${r.id}\n`);
      return 0;
    }
    case 'stop': {
      const n = id(rest[0]);
      const r = (await call(conn, 'DELETE', `/instances/${n}`)) as { stats: InstanceJson['stats'] };
      io.stdout.write(`stopped instance ${n}: ${r.stats.events} events, ${r.stats.lostKernel + r.stats.lostQueue} lost, ${r.stats.decodeErrors ?? 0} undecodable\n`);
      return 0;
    }
    case 'push': {
      if (!rest[0]) throw usage('"push" needs a compiled object (.o) or a package (.json)');
      const pkg = packageFromFile(rest[0], {
        name: v.name as string | undefined, event: v.event as string | undefined, set: v.set as string[] | undefined,
        header: v.header as string | undefined, includes: v.include as string[] | undefined, btf: v.btf as string | undefined,
        raw: v.raw as boolean | undefined, fallback: v.fallback as string[] | undefined,
      });
      const body = { program: pkg, ...(programFlags.length ? { options: await programOptions(pkg, programFlags) } : {}) };
      const r = v.replace ? ((await call(conn, 'PUT', `/instances/${id(v.replace as string)}`, body)) as InstanceJson) : ((await call(conn, 'POST', '/instances', body)) as InstanceJson);
      io.stdout.write(`${v.replace ? 'replaced' : 'loaded'} ${r.name} as instance ${r.id}\n`);
      for (const s of r.skipped ?? []) io.stderr.write(`eunomia: program ${s.program} not loaded: ${s.reason}\n`);
      for (const w of r.warnings ?? []) io.stderr.write(`eunomia: ${w}\n`);
      if (v.follow) await follow(conn, r.id, io.stdout, io.stderr);
      return 0;
    }
    case 'events': {
      const which = rest[0] === 'all' ? 'all' : id(rest[0]);
      await follow(conn, which, io.stdout, io.stderr);
      return 0;
    }
    default:
      throw usage(`unknown client command "${cmd}"`);
  }
}
