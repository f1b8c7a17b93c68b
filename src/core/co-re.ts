/**
 * An object's CO-RE relocations (.BTF.ext), and whether a minimized kernel BTF answers each of
 * them as the kernel's full BTF would. libbpf parses the full BTF (5 MB, ~60 ms here) for any
 * object with relocations unless given a smaller file; one that lacks a type or field would
 * silently turn a bpf_core_field_exists() into 0, so a minimized BTF is only used when every
 * relocation resolves in it by libbpf's own matching rules (relo_core.c), restated here.
 */
import { type Btf, type BtfType } from './btf/index.js';
import { readElfSectionList } from './elf.js';

/** enum bpf_core_relo_kind (<linux/bpf.h>). */
const FIELD_KINDS = new Set([0, 1, 2, 3, 4, 5]); // byte offset/size, exists, signed, lshift, rshift
const TYPE_ID_LOCAL = 6;
/**
 * Type exists, type size. Not 7, the kernel's type id (bpf_core_type_id_kernel()): against a
 * minimized BTF it is an id in that file, which an object may hand to the kernel (docs/btf.md).
 */
const TYPE_KINDS = new Set([8, 9]);
const ENUMVAL_KINDS = new Set([10, 11]); // exists, value
const BTF_EXT_MAGIC = 0xeb9f;
/** libbpf's BPF_CORE_SPEC_MAX_LEN: deeper access strings are refused by libbpf too. */
const MAX_SPEC = 64;

export interface CoreRelocation {
  kind: number;
  /** The local root type (this object's BTF). */
  typeId: number;
  /** Raw access string, e.g. "0:1:3". */
  access: number[];
}

/** The object's CO-RE relocations; undefined when its .BTF.ext cannot be read (then nothing is assumed). */
export function coreRelocations(elf: Buffer): CoreRelocation[] | undefined {
  const sections = readElfSectionList(elf);
  const ext = sections.find((s) => s.name === '.BTF.ext')?.data;
  const btf = sections.find((s) => s.name === '.BTF')?.data;
  if (!ext) return [];
  if (!btf || ext.length < 32 || btf.length < 24 || ext.readUInt16LE(0) !== BTF_EXT_MAGIC) return undefined;
  const extHdr = ext.readUInt32LE(4);
  if (extHdr < 32) return []; // a header without the core_relo part: no relocations
  const start = extHdr + ext.readUInt32LE(24);
  const len = ext.readUInt32LE(28);
  if (len === 0) return [];
  const strings = btf.subarray(btf.readUInt32LE(4) + btf.readUInt32LE(16), btf.readUInt32LE(4) + btf.readUInt32LE(16) + btf.readUInt32LE(20));
  const str = (off: number): string | undefined => {
    if (off >= strings.length) return undefined;
    const end = strings.indexOf(0, off);
    return strings.toString('latin1', off, end < 0 ? strings.length : end);
  };
  if (start + len > ext.length || len < 4) return undefined;
  const recSize = ext.readUInt32LE(start);
  if (recSize < 16) return undefined;
  const out: CoreRelocation[] = [];
  for (let p = start + 4; p < start + len; ) {
    if (p + 8 > start + len) return undefined;
    const n = ext.readUInt32LE(p + 4);
    p += 8;
    if (p + n * recSize > start + len) return undefined;
    for (let i = 0; i < n; i++, p += recSize) {
      const access = str(ext.readUInt32LE(p + 8));
      if (access === undefined || !/^\d+(:\d+)*$/.test(access)) return undefined;
      out.push({ typeId: ext.readUInt32LE(p + 4), access: access.split(':').map(Number), kind: ext.readUInt32LE(p + 12) });
    }
  }
  return out;
}

/** "task_struct___v58" → "task_struct" (libbpf's bpf_core_essential_name_len: the last X___Y). */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name.startsWith('___', i + 1) && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}

const isComposite = (t: BtfType): boolean => t.kind === 'struct' || t.kind === 'union';
const isEnum = (t: BtfType): boolean => t.kind === 'enum' || t.kind === 'enum64';
/** libbpf's btf_kind_core_compat: the same kind, or enum and enum64. */
const kindsCompat = (a: BtfType, b: BtfType): boolean => a.kind === b.kind || (isEnum(a) && isEnum(b));

/** Target types named like the local root (essentially) and of a compatible kind. */
function candidates(local: Btf, rootId: number, index: Map<string, BtfType[]>): BtfType[] {
  const root = local.type(rootId);
  if (!root.name) return [];
  return (index.get(essentialName(root.name)) ?? []).filter((t) => kindsCompat(root, t));
}

/** libbpf's bpf_core_fields_are_compat. */
function fieldsCompat(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  let l = local.resolve(localId);
  let t = target.resolve(targetId);
  for (let depth = 0; depth < MAX_SPEC; depth++) {
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindsCompat(l, t)) return false;
    switch (l.kind) {
      case 'ptr':
      case 'float':
        return true;
      case 'fwd':
      case 'enum':
      case 'enum64':
        return essentialName(l.name) === essentialName(t.name);
      case 'int':
        return !l.bitOffset && !t.bitOffset;
      case 'array':
        l = local.resolve(l.elemType!);
        t = target.resolve(t.elemType!);
        continue;
      default:
        return false;
    }
  }
  return false;
}

/** libbpf's bpf_core_match_member: a named member, looked for through anonymous ones. Its type id, or undefined. */
function matchMember(name: string, localType: number, local: Btf, targetId: number, target: Btf, depth = 0): number | undefined {
  const t = target.resolve(targetId);
  if (!isComposite(t) || depth > MAX_SPEC) return undefined;
  for (const m of t.members!) {
    if (!m.name) {
      const found = matchMember(name, localType, local, m.type, target, depth + 1);
      if (found !== undefined) return found;
    } else if (m.name === name) {
      return fieldsCompat(local, localType, target, m.type) ? m.type : undefined;
    }
  }
  return undefined;
}

type Step = { member: string; type: number } | { index: number };

/** libbpf's bpf_core_parse_spec for a field relocation: the named members and array indices after the root. */
function fieldSpec(local: Btf, r: CoreRelocation): Step[] | undefined {
  if (r.access.length > MAX_SPEC) return undefined;
  const steps: Step[] = [];
  let id = r.typeId;
  for (const idx of r.access.slice(1)) {
    const t = local.resolve(id);
    if (isComposite(t)) {
      const m = t.members![idx];
      if (!m) return undefined;
      if (m.name) steps.push({ member: m.name, type: m.type });
      id = m.type;
    } else if (t.kind === 'array') {
      steps.push({ index: idx });
      id = t.elemType!;
    } else {
      return undefined;
    }
  }
  return steps;
}

function fieldMatches(local: Btf, steps: Step[], target: Btf, candidate: BtfType): boolean {
  let id = candidate.id;
  for (const s of steps) {
    if ('member' in s) {
      const next = matchMember(s.member, s.type, local, id, target);
      if (next === undefined) return false;
      id = next;
    } else {
      const t = target.resolve(id);
      if (t.kind !== 'array') return false;
      // libbpf lets a flexible array (nelems 0) take any index.
      if (t.nelems !== 0 && s.index >= t.nelems!) return false;
      id = t.elemType!;
    }
  }
  return true;
}

function answered(local: Btf, r: CoreRelocation, target: Btf, index: Map<string, BtfType[]>): boolean {
  if (r.kind === TYPE_ID_LOCAL) return true; // needs no kernel type
  try {
    const cands = candidates(local, r.typeId, index);
    if (cands.length === 0) return false;
    if (FIELD_KINDS.has(r.kind)) {
      const steps = fieldSpec(local, r);
      return steps !== undefined && cands.some((c) => fieldMatches(local, steps, target, c));
    }
    if (TYPE_KINDS.has(r.kind)) {
      // Only roots whose compatibility is by kind and name alone (libbpf's types_are_compat):
      // a pointer or function type would be compared deeply, against pruned types.
      const l = local.resolve(r.typeId);
      return (isComposite(l) || isEnum(l)) && cands.some((c) => kindsCompat(l, target.resolve(c.id)));
    }
    if (ENUMVAL_KINDS.has(r.kind)) {
      const l = local.resolve(r.typeId);
      const v = isEnum(l) && r.access.length === 1 ? l.values![r.access[0]!] : undefined;
      if (!v) return false;
      return cands.some((c) => target.resolve(c.id).values?.some((tv) => essentialName(tv.name) === essentialName(v.name)) ?? false);
    }
  } catch {
    return false; // a type id out of range, a looping chain: libbpf decides, with the full BTF
  }
  return false; // TYPE_MATCHES (compared deeply) or a kind this code does not know
}

/** Types by essential name, built once per target BTF. */
const indexes = new WeakMap<Btf, Map<string, BtfType[]>>();

function nameIndex(target: Btf): Map<string, BtfType[]> {
  let index = indexes.get(target);
  if (!index) {
    index = new Map();
    for (const t of target.types) {
      if (!t.name) continue;
      const key = essentialName(t.name);
      const list = index.get(key);
      if (list) list.push(t);
      else index.set(key, [t]);
    }
    indexes.set(target, index);
  }
  return index;
}

/**
 * Whether `target` (a minimized kernel BTF) answers every relocation as the full BTF it was cut
 * from would: each resolves in it by libbpf's rules. An object without relocations needs none.
 */
export function coversRelocations(local: Btf, relocations: readonly CoreRelocation[], target: Btf): boolean {
  const index = nameIndex(target);
  return relocations.every((r) => answered(local, r, target, index));
}
