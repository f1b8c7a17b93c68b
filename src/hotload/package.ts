/**
 * Program packages: a precompiled eBPF object and how to run it, from untrusted JSON. Three
 * formats (docs/hotload.md): our own `{name, object, event?, btf?, raw?, fallbacks?, options?, perf?}`, the seed's hot
 * update `{data, data_sz, maps, progs, name}`, and eunomia-bpf's `{bpf_skel, export_types}`
 * or packed `{bpf_object, bpf_object_size, meta}`. Everything is checked here, before anything
 * reaches the kernel; every failure is EunomiaError(E_PACKAGE) naming the field.
 */
import { MAP_TYPE_RINGBUF, type PerfEventSpec } from '../core/bpf-object.js';
import { Btf, compileRecordDecoder, encodeToBuffer, type Decoder } from '../core/btf/index.js';
import { isEunomiaError } from '../core/errors.js';
import type { OptionValues, ProgramGroup } from '../runtime/types.js';
import { planPrograms } from './alternatives.js';
import { readEcliSkeleton, type EcliExtras } from './ecli.js';
import { array, bad, base64, describe, isObject, names, object, onlyKeys, programName, size, string, tooBig, type Json } from './fields.js';
import { inspectObject, isStreamMap, type MapInfo, type ObjectInfo, type ProgramInfo } from './inspect.js';
import { resolveLimits, type HotloadLimits } from './limits.js';
import { RAW_RECORDS } from './raw.js';
import { SEED_EVENT } from './seed-event.js';
import { recordSends, type SendSite } from './sends.js';

export type PackageFormat = 'eunomia' | 'seed' | 'eunomia-bpf';

/** Which rule of docs/hotload.md chose a stream's decoder. */
export type DecodeRule = 'event' | 'btf' | 'export_types' | 'EUNOMIA_EVENT' | 'struct event' | 'seed layout' | 'raw';

export interface PackageStream {
  /** A ring buffer or perf event array map of the object. */
  map: string;
  kind: 'ringbuf' | 'perf';
  /** Turns one record into an event's data. */
  decoder: Decoder;
  rule: DecodeRule;
}

export interface ProgramPackage {
  /** What its events carry as `tracker` ("hotupdate" when the package names nothing). */
  name: string;
  format: PackageFormat;
  description?: string;
  /** The ELF object. */
  object: Buffer;
  /** The object's own BTF. */
  btf: Btf;
  programs: ProgramInfo[];
  maps: MapInfo[];
  /** Every ring buffer and perf event array the instance reads (or those `event` names). */
  streams: PackageStream[];
  /** Global variables (`const volatile` in .rodata, or .data/.bss) to set before load, by name. */
  options: OptionValues;
  /** Names of every global variable of the object: what a start may set. */
  globals: string[];
  /** Where "perf_event" programs attach (our format's `perf`). */
  perfEvent?: PerfEventSpec;
  /** Alternative programs, best first: one of each group runs (alternatives.ts). */
  fallbacks: ProgramGroup[];
  /** Programs never loaded (a kind the limits refuse, with an alternative that stands in), and why. */
  unavailable: Record<string, string>;
  /** eunomia-bpf packages: the map ecli samples and the flags it makes of the globals (ecli.ts). */
  ecli?: EcliExtras;
}

/** A name the package declares (seed/eunomia-bpf `maps`/`progs`), to check against the object. */
interface Declared {
  name: string;
  field: string;
  attach?: unknown;
}

/** A package read from its format, before it is checked against its object. */
interface Raw {
  format: PackageFormat;
  name: string;
  description?: string;
  object: Buffer;
  objectField: string;
  maps: Declared[];
  progs: Declared[];
  event?: string | Record<string, string>;
  exportTypes: { name: string; size?: number; field: string }[];
  options: OptionValues;
  perf?: PerfEventSpec;
  /** Our format's `btf`: the types to decode records with, for an object whose BTF lacks them. */
  eventBtf?: Buffer;
  /** Our format's `raw`: records undecoded, as base64 with their length. */
  raw?: boolean;
  /** Our format's `fallbacks`: groups of alternative programs, best first. */
  fallbacks: string[][];
  /** eunomia-bpf's skeleton and where it is, read against the object's BTF once it is known. */
  skel?: { json: Json; at: string };
}

const parsed = new WeakMap<ProgramPackage, Raw>();

/**
 * Parses and checks a program package: JSON text, a Buffer (JSON, or a bare ELF object), or
 * the parsed JSON value. A ProgramPackage is checked again against these limits.
 */
export function parseProgramPackage(input: unknown, limits?: Partial<HotloadLimits>): ProgramPackage {
  const lim = resolveLimits(limits);
  const again = isObject(input) ? parsed.get(input as unknown as ProgramPackage) : undefined;
  if (again) return check(again, lim);
  try {
    return check(readFormat(input, lim), lim);
  } catch (e) {
    if (e instanceof RangeError) throw bad('', `too deeply nested or too large to read (${e.message})`, e);
    throw e;
  }
}

export interface SeedStart {
  pkg: ProgramPackage;
  /** Globals from the optional second argument (an object): start options over the package's own. */
  options: OptionValues;
}

/**
 * The seed's `POST /start {"name": "hotupdate", "args": ["<package JSON>"]}`: `args` (or the
 * whole body). One argument, the package as a JSON string (or object); an optional second,
 * an object of globals.
 */
export function parseSeedStart(args: unknown, limits?: Partial<HotloadLimits>): SeedStart {
  let list = args;
  if (isObject(args)) {
    if (args.name !== undefined && args.name !== 'hotupdate') throw bad('name', `expected "hotupdate", got ${describe(args.name)}`);
    list = args.args;
  }
  const a = array(list, 'args');
  if (a.length < 1 || a.length > 2) throw bad('args', `expected the package JSON (and optionally an object of globals), got ${a.length} arguments`);
  const pkg = parseProgramPackage(a[0], limits);
  const options = a.length > 1 ? scalars(object(a[1], 'args[1]'), 'args[1]') : {};
  return { pkg, options };
}

function readFormat(input: unknown, lim: HotloadLimits): Raw {
  let value = input;
  if (Buffer.isBuffer(value)) {
    if (value.length >= 4 && value.readUInt32BE(0) === 0x7f454c46) return bareObject(value);
    value = value.toString('utf8');
  }
  if (typeof value === 'string') {
    const max = 2 * lim.maxObjectBytes + 1024 * 1024; // base64 and line breaks: ~1.36x, plus metadata
    if (value.length > max) throw bad('', `the package text is ${value.length} bytes, more than ${max} (twice hot-load maxObjectBytes, plus 1 MiB)`);
    try {
      value = JSON.parse(value);
    } catch (e) {
      throw bad('', `not valid JSON (${(e as Error).message})`, e);
    }
  }
  const o = object(value, '');
  if ('object' in o) return ours(o, lim);
  if ('bpf_object' in o) return packed(o, lim);
  if ('bpf_skel' in o) return skeleton(o, lim);
  if ('data' in o) return seed(o, lim);
  const keys = Object.keys(o).slice(0, 10).join(', ') || 'none';
  throw bad('', `unknown format (keys: ${keys}): expected {"name", "object"} (Eunomia), {"data", "data_sz", "maps", "progs"} (hot update), or eunomia-bpf's {"bpf_skel", "export_types"} or {"bpf_object", "meta"}`);
}

function bareObject(elf: Buffer): Raw {
  return { format: 'eunomia', name: 'hotupdate', object: elf, objectField: 'object', maps: [], progs: [], exportTypes: [], options: {}, fallbacks: [] };
}

/** Our own format: `{name, object, event?, btf?, raw?, fallbacks?, options?, perf?, description?}`. */
function ours(o: Json, lim: HotloadLimits): Raw {
  onlyKeys(o, ['name', 'object', 'event', 'btf', 'raw', 'fallbacks', 'options', 'perf', 'description'], '');
  const raw: Raw = {
    format: 'eunomia',
    name: programName(o.name, 'name'),
    object: base64(o.object, 'object', lim.maxObjectBytes),
    objectField: 'object',
    maps: [],
    progs: [],
    exportTypes: [],
    options: o.options === undefined ? {} : scalars(object(o.options, 'options'), 'options'),
    fallbacks: o.fallbacks === undefined ? [] : array(o.fallbacks, 'fallbacks').map((g, i) => array(g, `fallbacks[${i}]`).map((n, j) => string(n, `fallbacks[${i}][${j}]`))),
  };
  if (o.btf !== undefined) raw.eventBtf = base64(o.btf, 'btf', lim.maxObjectBytes);
  if (o.raw !== undefined) {
    if (typeof o.raw !== 'boolean') throw bad('raw', `expected true or false, got ${describe(o.raw)}`);
    raw.raw = o.raw;
    if (o.raw && (o.event !== undefined || o.btf !== undefined)) throw bad('raw', 'streams records undecoded: give "raw" or "event"/"btf", not both');
  }
  if (raw.eventBtf && o.event === undefined) throw bad('event', 'is missing: name the struct of "btf" the records hold');
  if (o.description !== undefined) raw.description = string(o.description, 'description').slice(0, 200);
  if (typeof o.event === 'string') raw.event = o.event;
  else if (o.event !== undefined) {
    const ev = object(o.event, 'event');
    raw.event = {};
    // {} reads no stream: a program that only fills maps.
    for (const [map, struct] of Object.entries(ev)) raw.event[map] = string(struct, `event.${map}`);
  }
  if (o.perf !== undefined) raw.perf = perf(object(o.perf, 'perf'));
  return raw;
}

/** `perf`: {frequency | period, type?, config?}; default event: the software CPU clock on every CPU. */
function perf(p: Json): PerfEventSpec {
  onlyKeys(p, ['frequency', 'period', 'type', 'config'], 'perf');
  const positive = (k: string): number | undefined => {
    const v = p[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw bad(`perf.${k}`, `expected a positive integer, got ${describe(v)}`);
    return v;
  };
  const frequency = positive('frequency');
  const period = positive('period');
  if ((frequency === undefined) === (period === undefined)) throw bad('perf', 'give exactly one of "frequency" (samples per second) or "period" (events per sample)');
  const spec: PerfEventSpec = { type: p.type === undefined ? 1 : size(p.type, 'perf.type'), config: p.config === undefined ? 0 : size(p.config, 'perf.config') };
  if (frequency !== undefined) spec.frequency = frequency;
  else spec.period = period;
  return spec;
}

/** The seed's hot update: `{data, data_sz, maps, progs, name}` (also eunomia-bpf's early flat package). */
function seed(o: Json, lim: HotloadLimits): Raw {
  const data = base64(o.data, 'data', lim.maxObjectBytes);
  const declared = size(o.data_sz, 'data_sz');
  if (declared !== data.length) throw bad('data_sz', `is ${declared}, but data decodes to ${data.length} bytes — truncated or mismatched data`);
  const name = o.name === undefined || o.name === '' ? 'hotupdate' : programName(o.name, 'name');
  const raw: Raw = {
    format: 'seed',
    name,
    object: data,
    objectField: 'data',
    maps: o.maps === undefined ? [] : names(o.maps, 'maps'),
    progs: o.progs === undefined ? [] : names(o.progs, 'progs'),
    exportTypes: [],
    options: {},
    fallbacks: [],
  };
  if (typeof o.description === 'string') raw.description = o.description.slice(0, 200);
  return raw;
}

/** eunomia-bpf's skeleton JSON: `{bpf_skel: {data, data_sz, maps, progs, obj_name, …}, export_types}`. */
function skeleton(o: Json, lim: HotloadLimits): Raw {
  const skel = object(o.bpf_skel, 'bpf_skel');
  if (skel.data === undefined) throw bad('bpf_skel.data', 'is missing: this skeleton carries no object (ecc packs it into package.json; push that file)');
  const data = base64(skel.data, 'bpf_skel.data', lim.maxObjectBytes);
  if (skel.data_sz !== undefined) {
    const declared = size(skel.data_sz, 'bpf_skel.data_sz');
    if (declared !== data.length) throw bad('bpf_skel.data_sz', `is ${declared}, but bpf_skel.data decodes to ${data.length} bytes — truncated or mismatched data`);
  }
  return eunomiaBpf(skel, 'bpf_skel', o.export_types, 'export_types', data, 'bpf_skel.data');
}

/** eunomia-bpf's package.json: `{bpf_object: base64(zlib(ELF)), bpf_object_size, meta: {bpf_skel, export_types}}`. */
function packed(o: Json, lim: HotloadLimits): Raw {
  const meta = object(o.meta, 'meta');
  const skel = object(meta.bpf_skel, 'meta.bpf_skel');
  const stored = base64(o.bpf_object, 'bpf_object', lim.maxObjectBytes);
  let data = stored;
  if (stored.length < 4 || stored.readUInt32BE(0) !== 0x7f454c46) {
    try {
      // Loaded only for a compressed package: every command that starts an agent imports this file.
      data = process.getBuiltinModule('node:zlib').inflateSync(stored, { maxOutputLength: lim.maxObjectBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig('bpf_object', lim.maxObjectBytes + 1, lim.maxObjectBytes);
      throw bad('bpf_object', `neither an ELF object nor zlib-compressed data (${(e as Error).message})`, e);
    }
  }
  if (o.bpf_object_size !== undefined) {
    const declared = size(o.bpf_object_size, 'bpf_object_size');
    if (declared !== data.length) throw bad('bpf_object_size', `is ${declared}, but bpf_object holds ${data.length} bytes — truncated or mismatched data`);
  }
  return eunomiaBpf(skel, 'meta.bpf_skel', meta.export_types, 'meta.export_types', data, 'bpf_object');
}

function eunomiaBpf(skel: Json, at: string, exportTypes: unknown, typesAt: string, elf: Buffer, objectField: string): Raw {
  const rawName = typeof skel.obj_name === 'string' && skel.obj_name ? skel.obj_name.replace(/_bpf$/, '') : 'hotupdate';
  const progs = skel.progs === undefined ? [] : names(skel.progs, `${at}.progs`).map((p) => ({ ...p, attach: p.entry?.attach }));
  const raw: Raw = {
    format: 'eunomia-bpf',
    name: programName(rawName, `${at}.obj_name`),
    object: elf,
    objectField,
    maps: skel.maps === undefined ? [] : names(skel.maps, `${at}.maps`),
    progs,
    exportTypes: [],
    options: {},
    fallbacks: [],
    skel: { json: skel, at },
  };
  if (exportTypes !== undefined) {
    raw.exportTypes = array(exportTypes, typesAt).map((t, i) => {
      const f = `${typesAt}[${i}]`;
      const e = object(t, f);
      return { name: string(e.name, `${f}.name`), size: e.size === undefined ? undefined : size(e.size, `${f}.size`), field: f };
    });
  }
  const doc = isObject(skel.doc) ? skel.doc : {};
  const text = doc.description ?? doc.brief;
  if (typeof text === 'string') raw.description = text.slice(0, 200);
  return raw;
}

/** Option values: JSON scalars (numbers, booleans, strings); their types are checked against BTF later. */
function scalars(o: Json, field: string): OptionValues {
  const out: OptionValues = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') throw bad(`${field}.${k}`, `expected a number, boolean or string, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

/** Checks a package against its object: names, options, program kinds, streams and their decoders. */
function check(raw: Raw, lim: HotloadLimits): ProgramPackage {
  const info = inspectObject(raw.object, raw.objectField, lim);
  checkDeclared(raw, info);
  const vars = GLOBAL_SECTIONS.flatMap((s) => info.btf.datasec(s)?.vars ?? []);
  checkOptions(raw, info.btf, vars);
  const perfPrograms = info.programs.filter((p) => p.type === 'perf_event' && p.autoload);
  if (perfPrograms.length > 0 && !raw.perf) {
    throw bad(raw.format === 'eunomia' ? 'perf' : raw.objectField, `program ${perfPrograms[0]!.name} (section "perf_event") samples perf events: say which with "perf": {"frequency": 99} (our format; default event: the software CPU clock)`);
  }
  if (raw.perf && perfPrograms.length === 0) throw bad('perf', 'the object has no program in section "perf_event" to attach');
  const plan = planPrograms(info.programs, raw.fallbacks, lim.allowedProgramTypes, raw.objectField);
  const ecli = raw.skel ? readEcliSkeleton(raw.skel.json, raw.skel.at, info.btf) : undefined;
  const pkg: ProgramPackage = {
    name: raw.name,
    format: raw.format,
    object: raw.object,
    btf: info.btf,
    programs: info.programs,
    maps: info.maps,
    streams: streams(raw, info, lim, ecli),
    options: raw.options,
    globals: vars.map((v) => v.name),
    fallbacks: plan.groups,
    unavailable: plan.unavailable,
  };
  if (raw.description !== undefined) pkg.description = raw.description;
  if (raw.perf) pkg.perfEvent = raw.perf;
  if (ecli) pkg.ecli = ecli;
  parsed.set(pkg, raw);
  return pkg;
}

function checkDeclared(raw: Raw, info: ObjectInfo): void {
  const mapNames = info.maps.map((m) => m.name);
  for (const m of raw.maps) {
    // Internal maps are named "<object name>.rodata" and so on by libbpf.
    const dot = m.name.indexOf('.');
    if (mapNames.includes(m.name) || (dot >= 0 && info.dataSections.includes(m.name.slice(dot)))) continue;
    throw bad(m.field, `no map named "${m.name}" in the object (maps: ${mapNames.join(', ') || 'none'})`);
  }
  for (const p of raw.progs) {
    const found = info.programs.find((x) => x.name === p.name);
    if (!found) throw bad(p.field, `no program named "${p.name}" in the object (programs: ${info.programs.map((x) => x.name).join(', ')})`);
    if (p.attach !== undefined && p.attach !== found.section) {
      throw bad(`${p.field}.attach`, `is ${describe(p.attach)}, but program ${p.name} is in section "${found.section}"`);
    }
  }
}

const GLOBAL_SECTIONS = ['.rodata', '.data', '.bss'];

/** `vars`: the object's global variables (its .rodata, .data and .bss). */
function checkOptions(raw: Raw, btf: Btf, vars: { name: string; typeId: number }[]): void {
  for (const [name, value] of Object.entries(raw.options)) {
    const field = `options.${name}`;
    const v = vars.find((x) => x.name === name);
    if (!v) throw bad(field, `no global variable "${name}" in the object (globals: ${vars.map((x) => x.name).join(', ') || 'none'})`);
    try {
      encodeToBuffer(btf, v.typeId, value, field);
    } catch (e) {
      if (!isEunomiaError(e)) throw e;
      throw bad(e.message.startsWith(field) ? '' : field, e.message, e);
    }
  }
}

function streams(raw: Raw, info: ObjectInfo, lim: HotloadLimits, ecli: EcliExtras | undefined): PackageStream[] {
  let chosen: MapInfo[];
  const event = raw.event;
  if (isObject(event)) {
    chosen = Object.keys(event).map((k) => {
      const m = info.maps.find((x) => x.name === k);
      if (!m) throw bad(`event.${k}`, `no map named "${k}" in the object (maps: ${info.maps.map((x) => x.name).join(', ') || 'none'})`);
      if (!isStreamMap(m)) throw bad(`event.${k}`, `map ${k} is not a ring buffer or perf event array (type ${m.type ?? 'unknown'})`);
      return m;
    });
  } else chosen = info.maps.filter(isStreamMap);
  if (chosen.length > lim.maxStreams) throw bad(raw.objectField, `the object has ${chosen.length} ring buffers and perf event arrays, more than the limit of ${lim.maxStreams} (hot-load maxStreams)`);
  if (chosen.length === 0) return [];
  // ecli exports a sampled map instead of a stream it has no export type for.
  if (ecli?.sample && raw.exportTypes.length === 0) return [];
  const types = raw.eventBtf ? eventTypes(raw.eventBtf) : info.btf;
  const shared = isObject(event) ? undefined : recordType(raw, types, chosen);
  const sends = sendSites(raw);
  return chosen.map((m) => {
    const kind = m.type === MAP_TYPE_RINGBUF ? 'ringbuf' : 'perf';
    const t = shared ?? { type: struct(types, (event as Record<string, string>)[m.name]!, `event.${m.name}`, raw.eventBtf ? BTF_KEY : undefined), rule: raw.eventBtf ? ('btf' as const) : ('event' as const) };
    const field = isObject(event) ? `event.${m.name}` : raw.eventBtf ? 'btf' : 'event';
    const decoder = 'decoder' in t ? t.decoder : records(types, t.type, kind === 'perf', field);
    if (t.rule !== 'raw' && t.rule !== 'seed layout') checkSizes(decoder, t.rule, m.name, sends, field);
    return { map: m.name, kind, decoder, rule: t.rule };
  });
}

/** Where the programs send records, from the bytecode (sends.ts). */
function sendSites(raw: Raw): SendSite[] {
  try {
    return recordSends(raw.object);
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw bad(raw.objectField, e.message.replace(/^invalid eBPF object: /, ''), e);
  }
}

/**
 * Records of a size fixed in the code must fit the struct: shorter than its fixed part, none
 * could ever be decoded; and a type from outside the object (`btf`, a tool's header) of another
 * size than the records describes some other struct. Sizes computed at run time are checked
 * record by record (core/btf/records.ts).
 */
function checkSizes(d: Decoder, rule: DecodeRule, map: string, sends: SendSite[], field: string): void {
  const min = d.minSize ?? d.size;
  for (const s of sends) {
    if (s.map !== map || s.size === undefined) continue;
    const fits = s.size >= min && (s.size <= d.size || rule !== 'btf');
    if (fits) continue;
    const what = d.minSize !== undefined && d.minSize < d.size ? `${d.size} bytes (${d.minSize} before its trailing array)` : `${d.size} bytes`;
    throw bad(field, `${d.typeName} is ${what}, but program ${s.program} sends ${s.size}-byte records to map ${map} (bpf_${s.helper} at instruction ${s.insn}): the type does not describe these records — is it the header of this build of the tool?`);
  }
}

/** The package's `btf`: checked like the object's own (bounds, names, sizes, loops when decoded). */
function eventTypes(blob: Buffer): Btf {
  try {
    return Btf.parse(blob);
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw bad('btf', e.message, e);
  }
}

type RecordType = { type: number; rule: DecodeRule } | { decoder: Decoder; rule: DecodeRule };

/** The decoding rule of docs/hotload.md, for records of every stream. */
function recordType(raw: Raw, btf: Btf, maps: MapInfo[]): RecordType {
  if (raw.raw) return { decoder: RAW_RECORDS, rule: 'raw' };
  if (typeof raw.event === 'string') return raw.eventBtf ? { type: struct(btf, raw.event, 'event', BTF_KEY), rule: 'btf' } : { type: struct(btf, raw.event, 'event'), rule: 'event' };
  const exported = raw.exportTypes[0];
  if (exported) {
    const type = struct(btf, exported.name, `${exported.field}.name`);
    if (exported.size !== undefined && exported.size !== btf.sizeof(type)) {
      throw bad(`${exported.field}.size`, `is ${exported.size}, but ${exported.name} is ${btf.sizeof(type)} bytes in the object's BTF`);
    }
    return { type, rule: 'export_types' };
  }
  const kept = keptEvents(btf);
  if (kept.length === 1) return { type: struct(btf, kept[0]!, 'EUNOMIA_EVENT'), rule: 'EUNOMIA_EVENT' };
  if (kept.length > 1) {
    const example = JSON.stringify(Object.fromEntries(maps.map((m, i) => [m.name, kept[i % kept.length]])));
    throw bad('event', `the object keeps several event structs (${kept.join(', ')}): say which one each stream carries, e.g. "event": ${example}`);
  }
  if (btf.find('event', 'struct')) return { type: struct(btf, 'event', 'event'), rule: 'struct event' };
  if (raw.format === 'seed') return { decoder: SEED_EVENT, rule: 'seed layout' };
  throw bad('event', `cannot tell how to decode the records of ${maps.map((m) => m.name).join(', ')}: ${HOW_TO_TYPE}`);
}

const BTF_KEY = 'the package\'s "btf"';

const HOW_TO_TYPE =
  'clang keeps in an object\'s BTF only the types its code names, and an event struct used only as a local variable is not one of them. ' +
  'For an object you did not build, send the type with it ("btf" and "event": eunomia client push FILE --header TOOL.h --event event), ' +
  'or stream the records undecoded ("raw": true; --raw); in your own program, keep it with EUNOMIA_EVENT(type) (bpf/include/eunomia.bpf.h)';

/** Structs kept with EUNOMIA_EVENT(type): pointers to them in section .eunomia.types. */
function keptEvents(btf: Btf): string[] {
  const out: string[] = [];
  for (const v of btf.datasec('.eunomia.types')?.vars ?? []) {
    const ptr = btf.resolve(v.typeId);
    if (ptr.kind !== 'ptr') continue;
    const t = btf.resolve(ptr.type!);
    if ((t.kind === 'struct' || t.kind === 'union') && t.name && !out.includes(t.name)) out.push(t.name);
  }
  return out;
}

/** The type id of struct (or union, or a typedef of one) `name`. */
function struct(btf: Btf, name: string, field: string, source = "the object's BTF"): number {
  if (name === '') throw bad(field, 'expected a struct name, got an empty string');
  const t = btf.findAll(name).find((x) => {
    const r = btf.resolve(x.id).kind;
    return (x.kind === 'struct' || x.kind === 'union' || x.kind === 'typedef') && (r === 'struct' || r === 'union');
  });
  if (!t) {
    const known = btf.types.filter((x) => x.kind === 'struct' && x.name).map((x) => x.name);
    const list = known.length > 20 ? `${known.slice(0, 20).join(', ')}, …` : known.join(', ') || 'none';
    throw bad(field, `no struct "${name}" in ${source} (structs: ${list}) — ${source === BTF_KEY ? 'build "btf" from the header that defines it' : HOW_TO_TYPE}`);
  }
  return t.id;
}

/** A decoder for records of type `id` of any length (core/btf/records.ts); bad BTF names the field. */
function records(btf: Btf, id: number, perf: boolean, field: string): Decoder {
  try {
    return compileRecordDecoder(btf, id, { perf });
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw bad(field, e.message, e);
  }
}
