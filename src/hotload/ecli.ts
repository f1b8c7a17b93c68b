/**
 * What ecli (eunomia-bpf's runner) does with a skeleton beyond loading it: a map whose entry
 * carries `sample` is read every interval and printed (log2 histograms or key/value pairs), and
 * the globals listed in `data_sections` become command-line flags (`cmdarg`). Pure functions:
 * they check those parts against the object's BTF and turn them into an IntervalSpec and
 * OptionSpecs, which package.ts and descriptor.ts hand to the runtime. See docs/hotload.md.
 */
import type { Btf } from '../core/btf/index.js';
import { compileDecoder, encodeToBuffer } from '../core/btf/index.js';
import { isEunomiaError } from '../core/errors.js';
import type { Column } from '../runtime/events.js';
import { allOptions } from '../runtime/options.js';
import type { IntervalSpec, MapEntry, OptionSpec } from '../runtime/types.js';
import { log2Buckets, type Bucket } from '../trackers/histogram.js';
import { array, bad, describe, isObject, object, string, type Json } from './fields.js';

/** ecli's sample types; "linear_hist" exists in its schema, but ecli itself refuses to print it. */
export type EcliSampleType = 'log2_hist' | 'default_kv';

/** A map ecli samples: `bpf_skel.maps[i].sample`, checked against the object's BTF. */
export interface EcliSample {
  map: string;
  /** The JSON path of the `sample` object, for messages. */
  field: string;
  /** Milliseconds between reads, as given (the runtime reports in whole seconds). */
  intervalMs: number;
  type: EcliSampleType;
  /** The histogram's unit label; ecli's default is "(unit)". */
  unit: string;
  /** ecli empties the map when it stops sampling; here the map goes with the instance anyway. */
  clearMap: boolean;
  keyTypeId: number;
  valueTypeId: number;
}

/** A global ecli makes a flag of: `bpf_skel.data_sections[i].variables[j]`. */
export interface EcliVariable {
  name: string;
  /** Its data section, e.g. ".rodata". */
  section: string;
  field: string;
  /** The variable's type in the object's BTF. */
  typeId: number;
  kind: 'bool' | 'float' | 'value';
  /** `cmdarg.long`, or the variable's name. */
  long: string;
  /** `cmdarg.short` (one character); ecli gives bools none. */
  short?: string;
  /** `cmdarg.default`, else the variable's `value`. */
  default?: number | boolean | string;
  /** `cmdarg.help`, else `description`, else ecli's generated line. */
  help: string;
}

export interface EcliExtras {
  sample?: EcliSample;
  variables: EcliVariable[];
  /** What ecli would also only warn about (several sampled maps; a short letter on a bool). */
  warnings: string[];
}

const SAMPLE_TYPES = ['log2_hist', 'default_kv'];
/** Hash, array, per-CPU hash, per-CPU array, LRU hash, LRU per-CPU hash: maps whose entries can be read. */
const SAMPLED_MAP_TYPES = new Set([1, 2, 5, 6, 9, 10]);
/** The runtime's interval option is whole seconds, at most a day. */
const MAX_INTERVAL_MS = 86_400_000;
/** ecc's placeholders for types it keeps in BTF: not variables anyone sets. */
const DUMMY = '__eunomia_dummy';
const LONG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Reads the `sample` of `skel.maps[]` and the `cmdarg`/`description`/`value` of
 * `skel.data_sections[].variables[]`; `at` is where `skel` sits in the package ("bpf_skel" or
 * "meta.bpf_skel"). Every malformed field is E_PACKAGE naming it.
 */
export function readEcliSkeleton(skel: Json, at: string, btf: Btf): EcliExtras {
  const out: EcliExtras = { variables: [], warnings: [] };
  const samples: EcliSample[] = [];
  if (skel.maps !== undefined) {
    array(skel.maps, `${at}.maps`).forEach((m, i) => {
      if (!isObject(m) || m.sample === undefined || m.sample === null) return;
      samples.push(readSample(string(m.name, `${at}.maps[${i}].name`), m.sample, `${at}.maps[${i}].sample`, btf));
    });
  }
  // ecli reads one exported map, the last one listed, and warns about the others.
  if (samples.length > 0) out.sample = samples[samples.length - 1];
  if (samples.length > 1) out.warnings.push(`several maps have "sample" (${samples.map((s) => s.map).join(', ')}): only the last, ${out.sample!.map}, is read, as ecli does`);
  if (skel.data_sections !== undefined) {
    array(skel.data_sections, `${at}.data_sections`).forEach((s, i) => {
      const f = `${at}.data_sections[${i}]`;
      const sec = object(s, f);
      const name = string(sec.name, `${f}.name`);
      const btfSec = btf.datasec(name);
      if (!btfSec) throw bad(`${f}.name`, `no data section "${name}" in the object's BTF (it has: ${sectionNames(btf).join(', ') || 'none'})`);
      array(sec.variables, `${f}.variables`).forEach((v, j) => {
        const variable = readVariable(object(v, `${f}.variables[${j}]`), name, `${f}.variables[${j}]`, btf, btfSec.vars, out.warnings);
        if (variable) out.variables.push(variable);
      });
    });
  }
  checkUnique(out.variables);
  return out;
}

function sectionNames(btf: Btf): string[] {
  return btf.types.filter((t) => t.kind === 'datasec').map((t) => t.name);
}

function readSample(map: string, value: unknown, field: string, btf: Btf): EcliSample {
  const s = object(value, field);
  const ms = s.interval;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_INTERVAL_MS) {
    throw bad(`${field}.interval`, `expected the milliseconds between reads, an integer 1..${MAX_INTERVAL_MS}, got ${describe(ms)}`);
  }
  const type = s.type === undefined ? 'default_kv' : string(s.type, `${field}.type`);
  if (type === 'linear_hist') throw bad(`${field}.type`, '"linear_hist" is not supported (ecli refuses it too): use "log2_hist" or "default_kv"');
  if (!SAMPLE_TYPES.includes(type)) throw bad(`${field}.type`, `unknown sample type ${JSON.stringify(type.slice(0, 40))}: expected "log2_hist" or "default_kv"`);
  const unit = s.unit === undefined ? '(unit)' : string(s.unit, `${field}.unit`).slice(0, 40);
  if (s.clear_map !== undefined && typeof s.clear_map !== 'boolean') throw bad(`${field}.clear_map`, `expected true or false, got ${describe(s.clear_map)}`);
  let types;
  try {
    types = btf.mapTypes(map);
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw bad(field, `map ${map}: ${e.message}`, e);
  }
  if (!types) throw bad(field, `map ${map} is not defined in SEC(".maps") with BTF, so it cannot be sampled`);
  if (types.type === undefined || !SAMPLED_MAP_TYPES.has(types.type)) {
    throw bad(field, `map ${map} is of type ${types.type ?? 'unknown'}: only hash and array maps (plain, per-CPU or LRU) can be sampled`);
  }
  if (types.keyTypeId === undefined || types.valueTypeId === undefined) {
    throw bad(field, `map ${map} has no key/value types in BTF: declare it with __type(key, …) and __type(value, …)`);
  }
  if (type === 'log2_hist') checkSlots(btf, map, types.valueTypeId, `${field}.type`);
  return { map, field, intervalMs: ms, type: type as EcliSampleType, unit, clearMap: s.clear_map === true, keyTypeId: types.keyTypeId, valueTypeId: types.valueTypeId };
}

/** ecli prints a log2 histogram from the value's member `slots`: it must be an integer array. */
function checkSlots(btf: Btf, map: string, valueTypeId: number, field: string): void {
  const v = btf.resolve(valueTypeId);
  const member = v.kind === 'struct' || v.kind === 'union' ? v.members!.find((m) => m.name === 'slots') : undefined;
  const arr = member && btf.resolve(member.type);
  const elem = arr?.kind === 'array' && arr.nelems! > 0 ? btf.resolve(arr.elemType!) : undefined;
  if (!elem || elem.kind !== 'int' || elem.bool) {
    const has = member ? `its "slots" is ${btf.describe(member.type)}` : `its value is ${btf.describe(valueTypeId)}`;
    throw bad(field, `"log2_hist" needs map ${map}'s value to be a struct with an integer array "slots" (one count per log2 bucket), but ${has}`);
  }
}

function readVariable(v: Json, section: string, field: string, btf: Btf, vars: { name: string; typeId: number }[], warnings: string[]): EcliVariable | undefined {
  const name = string(v.name, `${field}.name`);
  if (name.startsWith(DUMMY)) return undefined;
  const found = vars.find((x) => x.name === name);
  if (!found) throw bad(`${field}.name`, `no variable "${name}" in section ${section} of the object's BTF (it has: ${vars.map((x) => x.name).join(', ') || 'none'})`);
  if (v.type !== undefined) string(v.type, `${field}.type`);
  const t = btf.resolve(found.typeId);
  const kind = t.kind === 'int' && t.bool ? 'bool' : t.kind === 'float' ? 'float' : 'value';
  const cmd = v.cmdarg === undefined || v.cmdarg === null ? {} : object(v.cmdarg, `${field}.cmdarg`);
  const optional = (k: string, from: Json, f: string): string | undefined => (from[k] === undefined || from[k] === null ? undefined : string(from[k], f));
  const long = optional('long', cmd, `${field}.cmdarg.long`) ?? name;
  if (!LONG.test(long)) throw bad(`${field}.cmdarg.long`, `${JSON.stringify(long.slice(0, 80))} is not a flag name: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`);
  const short = optional('short', cmd, `${field}.cmdarg.short`);
  if (short !== undefined && ([...short].length !== 1 || short === '-' || /\s/.test(short))) {
    throw bad(`${field}.cmdarg.short`, `expected one character (the flag's short letter), got ${describe(short)}`);
  }
  const help = optional('help', cmd, `${field}.cmdarg.help`) ?? optional('description', v, `${field}.description`) ?? `set value of ${typeof v.type === 'string' ? v.type : btf.describe(btf.unqualified(found.typeId).id)} variable ${name}`;
  const dflt = cmd.default ?? v.value;
  const dfltField = cmd.default !== undefined && cmd.default !== null ? `${field}.cmdarg.default` : `${field}.value`;
  const out: EcliVariable = { name, section, field, typeId: found.typeId, kind, long, help: help.slice(0, 200) };
  if (dflt !== undefined && dflt !== null) out.default = checkDefault(btf, out, dflt, dfltField);
  if (short !== undefined && kind === 'bool') warnings.push(`${field}.cmdarg.short: ignored, as ecli does: a bool is a switch (--NAME, --enable-NAME or --disable-NAME) without a short letter`);
  else if (short !== undefined) out.short = short;
  return out;
}

/** ecli: a bool takes a boolean default, anything else a number or a string; the BTF type decides the rest. */
function checkDefault(btf: Btf, v: EcliVariable, value: unknown, field: string): number | boolean | string {
  if (v.kind === 'bool' ? typeof value !== 'boolean' : typeof value !== 'number' && typeof value !== 'string') {
    throw bad(field, `expected ${v.kind === 'bool' ? 'true or false' : 'a number or a string'} for ${btf.describe(btf.unqualified(v.typeId).id)} variable ${v.name}, got ${describe(value)}`);
  }
  try {
    encodeToBuffer(btf, v.typeId, toGlobal(v, value as number | boolean | string), field);
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw bad('', e.message, e);
  }
  return value as number | boolean | string;
}

/** A flag's text reaches a float as a number; integers take integer strings as they are. */
function toGlobal(v: EcliVariable, value: number | boolean | string): number | boolean | string {
  if (v.kind === 'float' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/** The flags ecli derives from a variable: a bool's switch depends on its default. */
function flagsOf(v: EcliVariable): string[] {
  if (v.kind !== 'bool') return [v.long];
  if (v.default === true) return [v.long, `disable-${v.long}`];
  if (v.default === false) return [`enable-${v.long}`];
  return [v.long];
}

/** Two variables with one flag or short letter: clap refuses that package, so do we. */
function checkUnique(vars: EcliVariable[]): void {
  const flags = new Map<string, EcliVariable>();
  const shorts = new Map<string, EcliVariable>();
  for (const v of vars) {
    for (const f of flagsOf(v)) {
      const other = flags.get(f);
      if (other) throw bad(`${v.field}.cmdarg.long`, `flag --${f} of variable ${v.name} is also the flag of variable ${other.name} (${other.field})`);
      flags.set(f, v);
    }
    if (v.short === undefined) continue;
    const other = shorts.get(v.short);
    if (other) throw bad(`${v.field}.cmdarg.short`, `short flag -${v.short} of variable ${v.name} is also that of variable ${other.name} (${other.field})`);
    shorts.set(v.short, v);
  }
}

/** Flags the caller's command line has itself (e.g. `eunomia run`'s --fmt/-f). */
export interface TakenFlag {
  flag: string;
  short?: string;
}

export interface EcliOptionContext {
  /** Whether the descriptor takes the common options (pid, container, …): their flags are taken. */
  commonOptions?: boolean;
  /** More flags that are taken. */
  taken?: readonly TakenFlag[];
}

/**
 * The OptionSpecs of the variables ecli makes flags of: the option's name is the variable's
 * (what `options` objects and the API use), its flag ecli's (`--<long>`, `-<short>`), its
 * default and help ecli's. A bool is a switch: `--<long>` without a default,
 * `--enable-<long>` with default false, and with default true `--disable-<long>` (a second
 * spec that sets the same global to false). A flag Eunomia itself has (the common options,
 * -i/-n of a sampled map, `taken`) falls back to the variable's name, a short letter is
 * dropped; both are said in the help. Globals not listed in `data_sections` are not here.
 */
export function ecliOptions(extras: EcliExtras, ctx: EcliOptionContext = {}): OptionSpec[] {
  const builtIn = allOptions({
    name: '',
    summary: '',
    object: '',
    options: [],
    columns: [],
    commonOptions: ctx.commonOptions === true,
    ...(extras.sample ? { interval: { map: extras.sample.map, seconds: 1, top: 0 } } : {}),
  });
  const taken = [...builtIn.map((s) => ({ flag: s.flag, short: s.short })), ...(ctx.taken ?? [])];
  const flagTaken = (f: string): boolean => taken.some((t) => t.flag === f);
  const out: OptionSpec[] = [];
  for (const v of extras.variables) {
    let [main, negation] = flagsOf(v) as [string, string | undefined];
    const notes: string[] = [];
    if (flagTaken(main) || (negation !== undefined && flagTaken(negation))) {
      const alt = flagsOf({ ...v, long: v.name });
      if (alt.some(flagTaken) || v.long === v.name) throw bad(`${v.field}.cmdarg.long`, `flag --${flagTaken(main) ? main : negation} is Eunomia's own, and so is --${v.name}: variable ${v.name} has no flag left`);
      notes.push(`ecli's --${flagTaken(main) ? main : negation} is Eunomia's own`);
      [main, negation] = alt as [string, string | undefined];
    }
    const short = v.short !== undefined && !taken.some((t) => t.short === v.short) ? v.short : undefined;
    if (v.short !== undefined && short === undefined) notes.push(`ecli's -${v.short} is Eunomia's own`);
    const description = notes.length ? `${v.help} (${notes.join('; ')})` : v.help;
    const spec: OptionSpec = { name: v.name, flag: main, type: v.kind === 'bool' ? 'bool' : 'global', description, global: v.name };
    if (short !== undefined) spec.short = short;
    if (v.kind !== 'bool') spec.arg = v.kind === 'float' ? 'NUMBER' : 'VALUE';
    if (v.default !== undefined) spec.default = v.default;
    if (v.kind === 'float') spec.toGlobal = (x) => toGlobal(v, x);
    out.push(spec);
    if (negation !== undefined) {
      // Given only when the flag is: then it overrides the default true set by the spec above.
      out.push({ name: negation, flag: negation, type: 'bool', description: `${description} (sets ${v.name} to false)`, global: v.name, toGlobal: (x) => !x });
    }
    taken.push({ flag: main, ...(short !== undefined ? { short } : {}) });
    if (negation !== undefined) taken.push({ flag: negation });
  }
  return out;
}

/** Seconds between reports: ecli's milliseconds, rounded, at least one (the runtime's `-i` is whole seconds). */
export function ecliSeconds(sample: EcliSample): number {
  return Math.max(1, Math.round(sample.intervalMs / 1000));
}

/** Fields a row adds for a log2 histogram; a key or value field of the same name gets a prefix. */
const HIST_FIELDS = new Set(['buckets', 'count', 'unit', 'text']);

/**
 * The IntervalSpec that reads the sampled map as ecli does: every entry, each interval, with
 * the counts kept across intervals (ecli never clears between reads; `cumulative: false` makes
 * each report one interval's counts instead). Rows: the key's fields (a plain key is `key`), the
 * value's fields, and for "log2_hist" `buckets` ([{low, high, count}], slot 0 is 0..1), `count`
 * (their sum), `unit` and `text` (ecli's rendering of the entry). Undefined: nothing is sampled.
 */
export function ecliInterval(extras: EcliExtras, opts: { cumulative?: boolean } = {}): IntervalSpec | undefined {
  const sample = extras.sample;
  if (!sample) return undefined;
  const hist = sample.type === 'log2_hist';
  const rows = (entries: MapEntry[]): Record<string, unknown>[] => entries.map((e) => (hist ? histRow(e, sample.unit) : kvRow(e)));
  return { map: sample.map, seconds: ecliSeconds(sample), top: 0, keep: opts.cumulative !== false, rows };
}

function fieldsOf(v: unknown, plain: string): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { [plain]: v };
}

function kvRow(e: MapEntry): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fieldsOf(e.key, 'key') };
  for (const [k, v] of Object.entries(fieldsOf(e.value, 'value'))) row[k in row ? `value_${k}` : k] = v;
  return row;
}

function histRow(e: MapEntry, unit: string): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fieldsOf(e.key, 'key'))) row[HIST_FIELDS.has(k) ? `key_${k}` : k] = v;
  const { slots, ...rest } = e.value as Record<string, unknown>;
  const others: [string, unknown][] = [];
  for (const [k, v] of Object.entries(rest)) {
    const name = k in row || HIST_FIELDS.has(k) ? `value_${k}` : k;
    row[name] = v;
    others.push([k, v]);
  }
  const buckets = log2Buckets((slots as (number | bigint)[]).map(Number));
  row.buckets = buckets;
  row.count = buckets.reduce((n, b) => n + b.count, 0);
  row.unit = unit;
  const head = [`key = ${show(e.key)}`, ...others.map(([k, v]) => `${k} = ${show(v)}`)];
  const text = ecliHistogramText(buckets, unit);
  row.text = text ? `${head.join('\n')}\n${text}` : head.join('\n');
  return row;
}

/** A value as ecli prints it: numbers bare, strings and structs as JSON. */
function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/**
 * ecli's histogram layout (bpf-loader-rs helper/log2_hist.rs, itself libbpf-tools'
 * print_log2_hist): a header with the unit, then `low -> high : count |stars|` from slot 0 to
 * the last non-empty one, 40 stars for the largest count (wider numbers and 20 stars past slot
 * 32). Empty when every count is zero, as ecli prints nothing then.
 */
export function ecliHistogramText(buckets: readonly Bucket[], unit: string): string {
  let last = buckets.length - 1;
  while (last >= 0 && buckets[last]!.count === 0) last--;
  if (last < 0) return '';
  const wide = last > 32;
  const [pad, label, num, width] = wide ? [15, 29, 20, 20] : [5, 19, 10, 40];
  const max = Math.max(...buckets.slice(0, last + 1).map((b) => b.count));
  const lines = [`${' '.repeat(pad)}${unit.padEnd(label)} : count    distribution`];
  for (const b of buckets.slice(0, last + 1)) {
    const stars = Math.floor((b.count * width) / max);
    lines.push(`${String(b.low).padStart(num)} -> ${String(b.high).padEnd(num)} : ${String(b.count).padEnd(8)} |${'*'.repeat(stars)}${' '.repeat(width - stars)}|`);
  }
  return lines.join('\n');
}

/** Plain-text output of the rows: ecli's histogram text (undefined for "default_kv": the table shows those). */
export function ecliPlain(extras: EcliExtras): ((data: Record<string, unknown>) => string) | undefined {
  if (extras.sample?.type !== 'log2_hist') return undefined;
  return (data) => String(data.text ?? '');
}

const SCALAR = new Set(['s8', 's16', 's32', 's64', 'u8', 'u16', 'u32', 'u64', 'bool', 'char', 'string', 'enum']);

/** Table and CSV columns for the rows: the key's and value's scalar fields, and a histogram's count and buckets. */
export function ecliColumns(extras: EcliExtras, btf: Btf): Column[] {
  const sample = extras.sample;
  if (!sample) return [];
  const hist = sample.type === 'log2_hist';
  const names = (typeId: number, plain: string): string[] => {
    const k = btf.resolve(typeId).kind;
    if (k !== 'struct' && k !== 'union') return [plain];
    return compileDecoder(btf, typeId).fields.filter((f) => !f.hidden && SCALAR.has(f.kind)).map((f) => f.name);
  };
  const keys = names(sample.keyTypeId, 'key').map((k) => (hist && HIST_FIELDS.has(k) ? `key_${k}` : k));
  const values = names(sample.valueTypeId, 'value')
    .filter((k) => !(hist && k === 'slots'))
    .map((k) => (keys.includes(k) || (hist && HIST_FIELDS.has(k)) ? `value_${k}` : k));
  const cols: Column[] = [...keys, ...values].map((key) => ({ key, header: key.toUpperCase() }));
  if (hist) {
    cols.push({ key: 'count', header: 'COUNT' });
    cols.push({ key: 'buckets', header: `BUCKETS (${sample.unit})`, format: (v) => (Array.isArray(v) ? (v as Bucket[]).filter((b) => b.count).map((b) => `${b.low}-${b.high}:${b.count}`).join(' ') : '') });
  }
  return cols;
}
