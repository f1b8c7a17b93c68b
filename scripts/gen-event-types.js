// Generates src/trackers/<name>/event.gen.ts: the TypeScript type of what each tracker's
// decoders return, from its object's BTF (dist/bpf/<object>), so a descriptor is typed by the
// C struct it decodes. node scripts/gen-event-types.js [--check]: writes the files that
// changed and prints their paths; --check writes nothing, prints a diff, and exits 1.
//
// Plain ESM over the compiled tree (dist/src): it needs the project's BTF library and the
// registry's descriptors (which struct, which maps), so it runs after tsc (scripts/setup.sh
// recompiles when a file changed). The generated files are committed, so the first tsc of a
// fresh clone needs no generator.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = (p) => import(new URL(`../dist/src/${p}`, import.meta.url).href);
const SCRIPT = 'scripts/gen-event-types.js';
/** Shared by every object (bpf/include/eunomia.bpf.h) and read by the runtime itself. */
const RUNTIME_MAP = /^eunomia_/;
/**
 * Structs of bpf/include/eunomia.bpf.h that every event embeds (as an anonymous member): declared
 * once, in this file of src/trackers/, and imported by the trackers' files.
 */
const SHARED = new Map([['eunomia_common', 'common-event.gen.ts']]);
/** Hash and array maps, plain, per-CPU or LRU: what an interval report reads. */
const INTERVAL_MAP_TYPES = new Set([1, 2, 5, 6, 9, 10]);
const PER_CPU_MAP_TYPES = new Set([5, 6, 10]);
// As src/core/btf/decoder.ts: decoded members it leaves out, and members it decodes as a string list.
const TAG_HIDDEN = 'eunomia.hidden';
const TAG_STRINGS = 'eunomia.strings';

const pascal = (name) => name.split('_').filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const prop = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const quote = (s) => `'${s.replace(/[\\']/g, '\\$&')}'`;
const paren = (t) => (t.includes(' | ') ? `(${t})` : t);

/** The decoder's integers: exact numbers up to 53 bits, bigints beyond (see HELPERS in decoder.ts). */
function intType(size) {
  if (size <= 4) return 'number';
  if (size === 8) return 'number | bigint';
  if (size === 16) return 'bigint';
  throw new Error(`cannot decode a ${size}-byte integer`);
}

/** Type declarations for one object: Generator.value() of decoder.ts, as types instead of code. */
class Types {
  constructor(btf) {
    this.btf = btf;
    this.decls = new Map(); // type id → its TypeScript name
    this.queue = [];
    this.names = new Map(); // TypeScript name → what it names, to refuse clashes
    this.imports = new Map(); // shared file → TypeScript names this file takes from it
  }

  /** A name of its own for a named struct, union or enum (declared once, by `declarations`). */
  named(t, label) {
    const have = this.decls.get(t.id);
    if (have) return have;
    const name = pascal(t.name);
    this.claim(name, label);
    this.decls.set(t.id, name);
    const shared = this.shared ? undefined : SHARED.get(t.name);
    if (shared) this.imports.set(shared, [...(this.imports.get(shared) ?? []), name]);
    else this.queue.push(t);
    return name;
  }

  claim(name, what) {
    const other = this.names.get(name);
    if (other !== undefined && other !== what) throw new Error(`${what} and ${other} would both be the TypeScript type ${name}`);
    this.names.set(name, what);
  }

  /** TypeScript type of the value of type `id`, or null where the decoder skips it. */
  value(id) {
    const { btf } = this;
    const t = btf.resolve(id);
    switch (t.kind) {
      case 'int':
        return t.bool ? 'boolean' : intType(t.size);
      case 'enum':
      case 'enum64':
        return `${t.name ? this.named(t, `enum ${t.name}`) : this.enumNames(t)} | ${intType(t.size)}`;
      case 'ptr':
        return intType(8);
      case 'float':
        return t.size === 4 || t.size === 8 ? 'number' : null;
      case 'array': {
        if (t.nelems === 0) return null;
        if (btf.isChar(t.elemType)) return 'string';
        if (btf.sizeof(t.elemType) === 0) return null;
        const e = this.value(t.elemType);
        return e === null ? null : `${paren(e)}[]`;
      }
      case 'struct':
      case 'union':
      case 'datasec':
        return t.name ? this.named(t, `${t.kind} ${t.name}`) : this.members(t);
      default:
        return null;
    }
  }

  /** Unknown values stay numbers (the decoder's `default: return v`); aliases: the first name wins. */
  enumNames(t, sep = ' | ') {
    const seen = new Set();
    const names = [];
    for (const v of t.values) {
      if (seen.has(v.value)) continue;
      seen.add(v.value);
      names.push(quote(v.name));
    }
    return names.length ? names.join(sep) : 'never';
  }

  /**
   * An object type: members as Generator.composite() decodes them (anonymous ones flattened);
   * an embedded shared struct (the common header) by its name, its members not repeated.
   */
  members(t) {
    const { btf } = this;
    const seen = new Set();
    const embedded = [];
    for (const m of t.members ?? []) {
      const r = btf.resolve(m.type);
      if (m.name || !r.name || !SHARED.has(r.name) || this.shared) continue;
      embedded.push(this.named(r, `${r.kind} ${r.name}`));
      for (const f of btf.layout(r.id)) seen.add(f.name);
    }
    const lines = [];
    for (const f of btf.layout(t.id)) {
      if (seen.has(f.name) || f.tags?.includes(TAG_HIDDEN)) continue;
      const e = f.bitSize ? this.bitfield(f) : f.tags?.includes(TAG_STRINGS) && this.isCharArray(f.typeId) ? 'string[]' : this.value(f.typeId);
      if (e === null) continue;
      seen.add(f.name);
      lines.push(`  ${prop(f.name)}: ${e}; // ${btf.describe(f.typeId)}${f.bitSize ? `:${f.bitSize}` : ''}`);
    }
    const own = lines.length ? `{\n${lines.join('\n')}\n}` : 'Record<string, never>';
    return embedded.length ? `${embedded.join(' & ')} & ${own}` : own;
  }

  isCharArray(id) {
    const t = this.btf.resolve(id);
    return t.kind === 'array' && this.btf.isChar(t.elemType) && t.nelems > 0;
  }

  bitfield(f) {
    const t = this.btf.resolve(f.typeId);
    const raw = f.bitSize <= 53 ? 'number' : 'number | bigint'; // bits(): a bigint beyond 53 bits
    if (t.kind === 'enum' || t.kind === 'enum64') return `${t.name ? this.named(t, `enum ${t.name}`) : this.enumNames(t)} | ${raw}`;
    return t.bool ? 'boolean' : raw;
  }

  /** Declarations of the named types reached so far, in the order first reached. */
  declarations() {
    const out = [];
    while (this.queue.length) {
      const t = this.queue.shift();
      const name = this.decls.get(t.id);
      const c = t.kind === 'enum' || t.kind === 'enum64' ? 'enum' : t.kind;
      const body = c === 'enum' ? (t.values.length > 4 ? `\n  | ${this.enumNames(t, '\n  | ')}` : this.enumNames(t)) : this.members(t);
      const doc = c === 'enum' ? 'its names (a value without one is decoded as the number)' : 'as decoded';
      out.push(`/** ${c} ${t.name}: ${doc}. */\nexport type ${name} =${body.startsWith('\n') ? '' : ' '}${body};`);
    }
    return out;
  }
}

/** As compileDecoder finds a struct by name: the struct or union first, then a typedef of one. */
function lookup(btf, name) {
  const all = btf.findAll(name);
  const t = all.find((x) => x.kind === 'struct' || x.kind === 'union') ?? all.find((x) => x.kind === 'typedef');
  if (!t) throw new Error(`type '${name}' not found (is it used by the program? clang drops unused types)`);
  return t;
}

/**
 * The generated file for one object: a type per event struct (`structs`), and with `maps` an
 * entry type (key and value) per map an interval report may read: every map of the object but
 * the runtime's own, since `mapFor` chooses among them by the options.
 */
export function eventTypes(btf, { object, structs = [], maps = false, shared = false }) {
  const types = new Types(btf);
  types.shared = shared;
  const out = [];
  for (const s of structs) {
    const r = btf.resolve(lookup(btf, s).id);
    if (r.kind !== 'struct' && r.kind !== 'union') throw new Error(`${object}: ${s} is a ${r.kind}, not a struct or union`);
    if (r.name) types.named(r, `${r.kind} ${r.name}`);
    else {
      types.claim(pascal(s), `typedef ${s}`);
      out.push(`/** ${s}: as decoded. */\nexport type ${pascal(s)} = ${types.members(r)};`);
    }
    out.push(...types.declarations());
  }
  for (const m of maps ? btf.maps() : []) {
    const mt = btf.mapTypes(m);
    if (RUNTIME_MAP.test(m) || !INTERVAL_MAP_TYPES.has(mt.type) || mt.keyTypeId === undefined || mt.valueTypeId === undefined) continue;
    const [key, value] = [types.value(mt.keyTypeId), types.value(mt.valueTypeId)];
    if (key === null || value === null) continue;
    types.claim(`${pascal(m)}Entry`, `map ${m}`);
    const summed = PER_CPU_MAP_TYPES.has(mt.type) ? ' (per-CPU values summed)' : '';
    out.push(`/** An entry of map ${m}${summed}. */\nexport type ${pascal(m)}Entry = { key: ${key}; value: ${value} };`, ...types.declarations());
  }
  const imports = [...types.imports].map(([file, names]) => `import type { ${names.join(', ')} } from '../${file.replace(/\.ts$/, '.js')}';`);
  return [
    `// Generated from ${object} BTF by ${SCRIPT}; do not edit.`,
    '// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a',
    "// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.",
    ...(imports.length ? ['', ...imports] : []),
    '',
    out.join('\n\n'),
    '',
  ].join('\n');
}

/** Lines of `a` that `b` lacks (-) and of `b` that `a` lacks (+): enough to see a renamed or retyped member. */
export function lineDiff(a, b) {
  const minus = (x, y) => {
    const left = new Map();
    for (const l of y.split('\n')) left.set(l, (left.get(l) ?? 0) + 1);
    return x.split('\n').filter((l) => {
      const n = left.get(l) ?? 0;
      if (n) left.set(l, n - 1);
      return !n;
    });
  };
  return [...minus(a, b).map((l) => `- ${l}`), ...minus(b, a).map((l) => `+ ${l}`)].join('\n');
}

/** Every tracker's file: its path, the text generated from the object (or from `btfOf(descriptor)`), and the committed text. */
export async function generate({ btfOf } = {}) {
  const { trackers } = await dist('trackers/registry.js');
  const { Btf } = await dist('core/btf/index.js');
  const { objectDir } = await dist('core/paths.js');
  const out = [];
  const committedText = (file) => (existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : ''); // '': a new file
  const sharedFrom = new Map(); // shared struct → an object that has it
  for (const d of trackers) {
    const structs = [d.event?.struct, ...(d.streams ?? []).map((s) => s.struct)].filter(Boolean);
    const btf = btfOf?.(d) ?? Btf.fromElf(readFileSync(join(objectDir, d.object)));
    for (const name of SHARED.keys()) if (!sharedFrom.has(name) && btf.findAll(name).length) sharedFrom.set(name, { btf, object: d.object });
    const file = `src/trackers/${d.name}/event.gen.ts`;
    out.push({ file, text: eventTypes(btf, { object: d.object, structs, maps: d.interval !== undefined }), committed: committedText(file) });
  }
  for (const [name, shared] of SHARED) {
    const from = sharedFrom.get(name);
    if (!from) throw new Error(`no tracker object has struct ${name}`);
    const file = `src/trackers/${shared}`;
    out.push({ file, text: eventTypes(from.btf, { object: from.object, structs: [name], shared: true }), committed: committedText(file) });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let differ = 0;
  for (const { file, text, committed } of await generate()) {
    if (text === committed) continue;
    differ++;
    if (check) console.log(`${file} differs from its object's BTF (node ${SCRIPT} regenerates it):\n${lineDiff(committed, text)}`);
    else {
      writeFileSync(join(root, file), text);
      console.log(file);
    }
  }
  if (check && differ) process.exit(1);
}
