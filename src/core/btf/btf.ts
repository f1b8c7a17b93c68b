/**
 * BTF (BPF Type Format) parser, pure TypeScript. Input may come from untrusted objects, so
 * every offset, count and type reference is checked: malformed data gives EunomiaError(BTF),
 * never a RangeError, a stack overflow or an endless loop.
 * Format: https://docs.kernel.org/bpf/btf.html
 */
import { EunomiaError, ErrorCodes } from '../errors.js';
import { readElfSectionList, readElfSymbols, STT_OBJECT, type ElfSection } from '../elf.js';

export type BtfKind =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** Kind numbers as in <linux/btf.h>; index 0 (BTF_KIND_UNKN) is only valid for type id 0. */
const KINDS: readonly BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;
/** What a BPF pointer occupies (BTF PTR types carry no size). */
export const POINTER_SIZE = 8;

export interface BtfMember {
  name: string;
  type: number;
  /** Bit offset from the start of the struct/union. */
  bitOffset: number;
  /** Bitfield width when the struct has kind_flag set; 0 otherwise. */
  bitfieldSize: number;
}

export interface BtfEnumValue {
  name: string;
  /** A number when it fits in a safe integer, else a bigint (enum64 only). */
  value: number | bigint;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfVarSecinfo {
  /** Id of a VAR (or FUNC, in .ksyms) type. */
  type: number;
  offset: number;
  size: number;
}

export interface BtfType {
  id: number;
  kind: BtfKind;
  /** '' for anonymous types. */
  name: string;
  /** int, enum, enum64, struct, union, float, datasec. */
  size?: number;
  /** Referenced type: ptr, typedef, qualifiers, type_tag, func (its proto), func_proto (return type), var, decl_tag. */
  type?: number;
  kindFlag: boolean;
  /** int: BTF_INT_* bits; `bits`/`bitOffset` are the INT encoding's (old-style bitfields). */
  encoding?: number;
  bits?: number;
  bitOffset?: number;
  /** int (BTF_INT_SIGNED), enum/enum64 (kind_flag). */
  signed?: boolean;
  bool?: boolean;
  char?: boolean;
  /** array */
  elemType?: number;
  indexType?: number;
  nelems?: number;
  /** struct, union */
  members?: BtfMember[];
  /** enum, enum64 */
  values?: BtfEnumValue[];
  /** fwd: what it declares (kind_flag). */
  fwdKind?: 'struct' | 'union';
  /** func, var: BTF_FUNC_* / BTF_VAR_* linkage. */
  linkage?: number;
  /** func_proto */
  params?: BtfParam[];
  /** datasec */
  vars?: BtfVarSecinfo[];
  /** decl_tag: -1 for the whole declaration, else member/param index. */
  componentIdx?: number;
}

/** A struct/union member after flattening anonymous members (see Btf.layout). */
export interface BtfField {
  name: string;
  typeId: number;
  /** From the start of the outer type. */
  bitOffset: number;
  /** 0 when not a bitfield (or a bitfield that is exactly a whole aligned int). */
  bitSize: number;
  /** btf_decl_tag strings on this member, e.g. "eunomia.strings". */
  tags?: string[];
}

export interface BtfDatasecVar {
  name: string;
  /** The variable's type (what to encode/decode), not the VAR's own id. */
  typeId: number;
  varId: number;
  offset: number;
  size: number;
}

export interface BtfDatasec {
  name: string;
  id: number;
  size: number;
  vars: BtfDatasecVar[];
}

export interface BtfMapTypes {
  keyTypeId?: number;
  valueTypeId?: number;
  /** BPF_MAP_TYPE_* */
  type?: number;
  maxEntries?: number;
  keySize?: number;
  valueSize?: number;
  mapFlags?: number;
  /** Every `__uint(name, N)` member by name (type, max_entries, map_flags, pinning, ...). */
  ints: Record<string, number>;
}

const HDR_LEN = 24;
const MAGIC = 0xeb9f;
const MAX_NESTING = 64;

function btfError(msg: string, cause?: unknown): EunomiaError {
  return new EunomiaError(ErrorCodes.BTF, `BTF: ${msg}`, cause === undefined ? {} : { cause });
}

const VOID: BtfType = Object.freeze({ id: 0, kind: 'void', name: '', kindFlag: false }) as BtfType;

const SIZED = new Set<BtfKind>(['int', 'enum', 'enum64', 'struct', 'union', 'float', 'datasec']);
const MODIFIERS = new Set<BtfKind>(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);
const QUALIFIERS = new Set<BtfKind>(['volatile', 'const', 'restrict', 'type_tag']);
const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);

function safeNumber(lo: number, hi: number, signed: boolean): number | bigint {
  const v = signed ? (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

// Buffer#readUInt32LE can hand back a heap double even for small values; `>>> 0` gives V8 a
// small integer, so sizes and offsets stay Smis and callers' offset arithmetic stays integer.
function u32(data: Buffer, p: number): number {
  return data.readUInt32LE(p) >>> 0;
}

/** Bytes after a type's 12-byte head: its members, values, params or extra word. */
function tailBytes(kind: BtfKind, vlen: number): number {
  switch (kind) {
    case 'int': case 'var': case 'decl_tag': return 4;
    case 'array': return 12;
    case 'struct': case 'union': case 'datasec': case 'enum64': return vlen * 12;
    case 'enum': case 'func_proto': return vlen * 8;
    default: return 0;
  }
}

const where = (id: number, kind: BtfKind, part?: string, i?: number): string => `type ${id} (${kind})${part ? ` ${part} ${i}` : ''}`;

/**
 * A BTF section checked whole (header, every type's bounds, sizes, encodings, names and
 * references) without making an object per type: an object's BTF holds the thousand or more
 * kernel types its CO-RE relocations name, of which a tracker reads a few dozen. Types are
 * made when first read (`build`).
 */
class Section {
  readonly data: Buffer;
  /** Where each type's record starts; [0] (void) unused. */
  readonly offsets: Uint32Array;
  /** Kind numbers (KINDS index) per type id. */
  readonly kinds: Uint8Array;
  readonly count: number;
  private readonly strStart: number;
  private readonly strLen: number;
  private readonly names = new Map<number, string>();

  constructor(data: Buffer) {
    if (!Buffer.isBuffer(data)) throw btfError('expected a Buffer');
    if (data.length < HDR_LEN) throw btfError(`truncated header (${data.length} bytes, need at least ${HDR_LEN})`);
    const magic = data.readUInt16LE(0);
    if (magic === 0x9feb) throw btfError('big-endian BTF is not supported');
    if (magic !== MAGIC) throw btfError(`bad magic 0x${magic.toString(16)} (expected 0xeb9f) — not BTF data`);
    if (data[2] !== 1) throw btfError(`unsupported version ${data[2]} (expected 1)`);
    const hdrLen = u32(data, 4);
    if (hdrLen < HDR_LEN || hdrLen > data.length) throw btfError(`header length ${hdrLen} is invalid (data is ${data.length} bytes)`);
    const typeOff = u32(data, 8);
    const typeLen = u32(data, 12);
    const strOff = u32(data, 16);
    const strLen = u32(data, 20);
    const typeStart = hdrLen + typeOff;
    const strStart = hdrLen + strOff;
    if (typeOff % 4 !== 0) throw btfError(`type section offset ${typeOff} is not 4-byte aligned`);
    if (typeStart + typeLen > data.length) {
      throw btfError(`type section (offset ${typeOff}, ${typeLen} bytes) runs past the end of the data (${data.length - hdrLen} bytes after the header) — truncated?`);
    }
    if (strStart + strLen > data.length) {
      throw btfError(`string section (offset ${strOff}, ${strLen} bytes) runs past the end of the data (${data.length - hdrLen} bytes after the header) — truncated?`);
    }
    if (strLen === 0 || data[strStart] !== 0) throw btfError('string section is empty or does not start with NUL');
    this.data = data;
    this.strStart = strStart;
    this.strLen = strLen;
    // Every name ends inside the section when its last byte is NUL: then none needs a search.
    const terminated = data[strStart + strLen - 1] === 0;
    const checkName = (off: number, id: number, kind: BtfKind, part?: string, i?: number): void => {
      if (off === 0) return;
      if (off >= strLen) throw btfError(`${where(id, kind, part, i)}: name offset ${off} is outside the string section (${strLen} bytes)`);
      if (!terminated) {
        const e = data.indexOf(0, strStart + off);
        if (e < 0 || e >= strStart + strLen) throw btfError(`${where(id, kind, part, i)}: name at offset ${off} is not NUL-terminated`);
      }
    };

    // Each record is at least 12 bytes: an upper bound on the count.
    const offsets = new Uint32Array(Math.floor(typeLen / 12) + 1);
    const kinds = new Uint8Array(offsets.length);
    const end = typeStart + typeLen;
    let maxRef = 0;
    let id = 1;
    for (let p = typeStart; p < end; id++) {
      if (p + 12 > end) throw btfError(`type ${id} is truncated (${end - p} bytes left, need 12)`);
      const nameOff = u32(data, p);
      const info = u32(data, p + 4);
      const sizeOrType = u32(data, p + 8);
      const kindNo = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const kind = kindNo === 0 ? undefined : KINDS[kindNo];
      if (!kind) throw btfError(`type ${id} has unknown kind ${kindNo}`);
      offsets[id] = p;
      kinds[id] = kindNo;
      checkName(nameOff, id, kind);
      const q = p + 12;
      const tail = tailBytes(kind, vlen);
      if (q + tail > end) throw btfError(`${where(id, kind)} is truncated: needs ${tail} more bytes, ${end - q} left in the type section`);
      switch (kind) {
        case 'int': {
          if (![1, 2, 4, 8, 16].includes(sizeOrType)) throw this.invalidSize(id, kind, nameOff, sizeOrType);
          const enc = u32(data, q);
          const bitOffset = (enc >>> 16) & 0xff;
          const bits = enc & 0xff;
          if (bits === 0 || bits > 128 || bitOffset + bits > sizeOrType * 8) {
            throw btfError(`${where(id, kind)} '${this.name(nameOff)}' has invalid encoding: ${bits} bits at bit ${bitOffset} in ${sizeOrType} bytes`);
          }
          break;
        }
        case 'float':
          if (![2, 4, 8, 12, 16].includes(sizeOrType)) throw this.invalidSize(id, kind, nameOff, sizeOrType);
          break;
        case 'enum': case 'enum64':
          if (![1, 2, 4, 8].includes(sizeOrType)) throw this.invalidSize(id, kind, nameOff, sizeOrType);
          for (let i = 0, r = q; i < vlen; i++, r += kind === 'enum64' ? 12 : 8) checkName(u32(data, r), id, kind, 'value', i);
          break;
        case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'func': case 'type_tag': case 'var': case 'decl_tag':
          if (sizeOrType > maxRef) maxRef = sizeOrType;
          break;
        case 'array':
          maxRef = Math.max(maxRef, u32(data, q), u32(data, q + 4));
          break;
        case 'struct': case 'union':
          for (let i = 0, r = q; i < vlen; i++, r += 12) {
            checkName(u32(data, r), id, kind, 'member', i);
            const t = u32(data, r + 4);
            if (t > maxRef) maxRef = t;
          }
          break;
        case 'func_proto':
          if (sizeOrType > maxRef) maxRef = sizeOrType;
          for (let i = 0, r = q; i < vlen; i++, r += 8) {
            checkName(u32(data, r), id, kind, 'param', i);
            const t = u32(data, r + 4);
            if (t > maxRef) maxRef = t;
          }
          break;
        case 'datasec':
          for (let i = 0, r = q; i < vlen; i++, r += 12) {
            const t = u32(data, r);
            if (t > maxRef) maxRef = t;
          }
          break;
      }
      p = q + tail;
    }
    this.count = id;
    this.offsets = offsets;
    this.kinds = kinds;
    // A reference past the last type: made and checked one by one, for the message naming it.
    if (maxRef >= id) checkReferences(Array.from({ length: id }, (_, i) => this.build(i)));
  }

  private invalidSize(id: number, kind: BtfKind, nameOff: number, size: number): EunomiaError {
    return btfError(`${where(id, kind)} '${this.name(nameOff)}' has invalid size ${size}`);
  }

  /** The name at `off` in the string section (checked when the section was). */
  name(off: number): string {
    if (off === 0) return '';
    let s = this.names.get(off);
    if (s === undefined) {
      const from = this.strStart + off;
      s = this.data.toString('utf8', from, this.data.indexOf(0, from));
      this.names.set(off, s);
    }
    return s;
  }

  /** Type `id` as an object (its record was checked by the constructor). */
  build(id: number): BtfType {
    if (id === 0) return VOID;
    const data = this.data;
    const p = this.offsets[id]!;
    const info = u32(data, p + 4);
    const sizeOrType = u32(data, p + 8);
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const kind = KINDS[this.kinds[id]!]!;
    const t: BtfType = { id, kind, name: this.name(u32(data, p)), kindFlag };
    const q = p + 12;
    switch (kind) {
      case 'int': {
        const enc = u32(data, q);
        t.size = sizeOrType;
        t.encoding = (enc >>> 24) & 0x0f;
        t.bitOffset = (enc >>> 16) & 0xff;
        t.bits = enc & 0xff;
        t.signed = (t.encoding & BTF_INT_SIGNED) !== 0;
        t.char = (t.encoding & BTF_INT_CHAR) !== 0;
        t.bool = (t.encoding & BTF_INT_BOOL) !== 0;
        break;
      }
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'func': case 'type_tag':
        t.type = sizeOrType;
        if (kind === 'func') t.linkage = vlen;
        break;
      case 'fwd':
        t.fwdKind = kindFlag ? 'union' : 'struct';
        break;
      case 'float':
        t.size = sizeOrType;
        break;
      case 'array':
        t.elemType = u32(data, q);
        t.indexType = u32(data, q + 4);
        t.nelems = u32(data, q + 8);
        break;
      case 'struct': case 'union': {
        t.size = sizeOrType;
        const members: BtfMember[] = new Array(vlen);
        for (let i = 0, r = q; i < vlen; i++, r += 12) {
          const off = u32(data, r + 8);
          members[i] = { name: this.name(u32(data, r)), type: u32(data, r + 4), bitOffset: kindFlag ? off & 0xffffff : off, bitfieldSize: kindFlag ? off >>> 24 : 0 };
        }
        t.members = members;
        break;
      }
      case 'enum': case 'enum64': {
        const wide = kind === 'enum64';
        t.size = sizeOrType;
        t.signed = kindFlag;
        const values: BtfEnumValue[] = new Array(vlen);
        for (let i = 0, r = q; i < vlen; i++, r += wide ? 12 : 8) {
          const n = this.name(u32(data, r));
          values[i] = wide
            ? { name: n, value: safeNumber(u32(data, r + 4), u32(data, r + 8), kindFlag) }
            : { name: n, value: kindFlag ? data.readInt32LE(r + 4) | 0 : u32(data, r + 4) };
        }
        t.values = values;
        break;
      }
      case 'func_proto': {
        t.type = sizeOrType;
        const params: BtfParam[] = new Array(vlen);
        for (let i = 0, r = q; i < vlen; i++, r += 8) params[i] = { name: this.name(u32(data, r)), type: u32(data, r + 4) };
        t.params = params;
        break;
      }
      case 'var':
        t.type = sizeOrType;
        t.linkage = u32(data, q);
        break;
      case 'datasec': {
        t.size = sizeOrType;
        const vars: BtfVarSecinfo[] = new Array(vlen);
        for (let i = 0, r = q; i < vlen; i++, r += 12) vars[i] = { type: u32(data, r), offset: u32(data, r + 4), size: u32(data, r + 8) };
        t.vars = vars;
        break;
      }
      case 'decl_tag':
        t.type = sizeOrType;
        t.componentIdx = data.readInt32LE(q) | 0;
        break;
    }
    return t;
  }
}

/** The first reference past the last type, named (types[] from a section with one). */
function checkReferences(types: BtfType[]): void {
  const n = types.length;
  const ref = (t: BtfType, id: number | undefined, what: string): void => {
    if (id !== undefined && (id >= n || !Number.isInteger(id))) {
      throw btfError(`type ${t.id} (${t.kind}${t.name ? ` '${t.name}'` : ''}) ${what} refers to type ${id}, but there are only ${n} types`);
    }
  };
  for (let i = 1; i < n; i++) {
    const t = types[i]!;
    ref(t, t.type, 'type');
    ref(t, t.elemType, 'element type');
    ref(t, t.indexType, 'index type');
    if (t.members) for (const m of t.members) ref(t, m.type, `member '${m.name}'`);
    if (t.params) for (const m of t.params) ref(t, m.type, `parameter '${m.name}'`);
    if (t.vars) for (const v of t.vars) ref(t, v.type, 'variable');
  }
}

export class Btf {
  private readonly section: Section;
  /** Types made so far, by id (see Section). */
  private readonly made: (BtfType | undefined)[];
  private all = false;
  private byName: Map<string, number[]> | undefined;

  private constructor(section: Section) {
    this.section = section;
    this.made = new Array<BtfType | undefined>(section.count);
  }

  /** Every type, index = type id; types[0] is void. Makes them all: lookups by id or name make only what they read. */
  get types(): readonly BtfType[] {
    if (!this.all) {
      for (let id = 0; id < this.section.count; id++) this.at(id);
      this.all = true;
    }
    return this.made as BtfType[];
  }

  /** Type `id`, which must be in range (references were checked at parse). */
  private at(id: number): BtfType {
    return (this.made[id] ??= this.section.build(id));
  }

  /** The ids of the types of one kind. */
  private idsOf(kind: BtfKind): number[] {
    const k = KINDS.indexOf(kind);
    const out: number[] = [];
    const kinds = this.section.kinds;
    for (let id = 1; id < this.section.count; id++) if (kinds[id] === k) out.push(id);
    return out;
  }

  /** Parse a raw .BTF section (or /sys/kernel/btf/vmlinux). */
  static parse(data: Buffer): Btf {
    try {
      return new Btf(new Section(data));
    } catch (e) {
      if (e instanceof EunomiaError) throw e;
      throw btfError(`malformed data (${(e as Error).message})`, e);
    }
  }

  /**
   * Parse the .BTF section of an eBPF ELF object. Like libbpf, fill in DATASEC sizes and
   * variable offsets from the ELF sections and symbols: clang leaves them 0 in .o files.
   */
  static fromElf(obj: Buffer): Btf {
    const sections = readElfSectionList(obj);
    const sec = sections.find((s) => s.name === '.BTF');
    if (!sec) throw new EunomiaError(ErrorCodes.OBJECT_INVALID, 'object has no .BTF section — compile with clang -g');
    // A copy: the types are read from it as they are asked for, and it should not hold the whole ELF.
    const btf = Btf.parse(Buffer.from(sec.data));
    btf.fixupDatasecs(sections, obj);
    return btf;
  }

  private fixupDatasecs(sections: ElfSection[], obj: Buffer): void {
    const datasecs = this.idsOf('datasec').map((id) => this.at(id));
    if (datasecs.length === 0) return;
    const byName = new Map<string, ElfSection>();
    for (const s of sections) if (s.index !== 0 && !byName.has(s.name)) byName.set(s.name, s);
    const symbols = new Map<string, number>();
    for (const s of readElfSymbols(obj, sections)) {
      if (s.type === STT_OBJECT) symbols.set(`${s.shndx}\0${s.name}`, s.value);
    }
    for (const t of datasecs) {
      const sec = byName.get(t.name);
      if (!sec || t.size !== 0) continue; // extern sections (.kconfig, .ksyms) or already fixed up
      t.size = sec.size;
      for (const v of t.vars!) {
        const vt = this.at(v.type);
        if (vt.kind !== 'var') continue;
        const off = symbols.get(`${sec.index}\0${vt.name}`);
        if (off !== undefined) v.offset = off;
        if (v.offset + v.size > t.size) {
          throw btfError(`variable '${vt.name}' (offset ${v.offset}, ${v.size} bytes) lies outside section ${t.name} (${t.size} bytes)`);
        }
      }
    }
  }

  get length(): number {
    return this.section.count;
  }

  type(id: number): BtfType {
    if (!(Number.isInteger(id) && id >= 0 && id < this.section.count)) throw btfError(`type id ${id} is out of range (0..${this.section.count - 1})`);
    return this.at(id);
  }

  /** First type with this name (and kind, when given), in id order. */
  find(name: string, kind?: BtfKind): BtfType | undefined {
    for (const id of this.nameIndex().get(name) ?? []) {
      const t = this.at(id);
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  findAll(name: string, kind?: BtfKind): BtfType[] {
    return (this.nameIndex().get(name) ?? []).map((id) => this.at(id)).filter((t) => kind === undefined || t.kind === kind);
  }

  private nameIndex(): Map<string, number[]> {
    if (!this.byName) {
      // Names only: the types are made when found.
      const m = new Map<string, number[]>();
      const { data, offsets, count } = this.section;
      for (let id = 1; id < count; id++) {
        const name = this.section.name(u32(data, offsets[id]!));
        if (!name) continue;
        const list = m.get(name);
        if (list) list.push(id);
        else m.set(name, [id]);
      }
      this.byName = m;
    }
    return this.byName;
  }

  /** Follow typedef/const/volatile/restrict/type_tag to the underlying type. */
  resolve(id: number): BtfType {
    return this.skip(id, MODIFIERS);
  }

  /** Follow only qualifiers (const/volatile/restrict/type_tag), keeping typedefs. */
  unqualified(id: number): BtfType {
    return this.skip(id, QUALIFIERS);
  }

  private skip(id: number, kinds: Set<BtfKind>): BtfType {
    let t = this.type(id);
    // A valid chain visits each type at most once, so more steps than types means a loop.
    for (let steps = 0; kinds.has(t.kind); steps++) {
      if (steps > this.section.count) throw btfError(`type ${id}: typedef/qualifier chain loops`);
      t = this.type(t.type!);
    }
    return t;
  }

  /**
   * A C `char` (plain, signed or unsigned) reached only through qualifiers: arrays of it are
   * strings. Typedefs such as __u8 mean bytes, so they don't count.
   */
  isChar(id: number): boolean {
    const t = this.unqualified(id);
    return t.kind === 'int' && t.size === 1 && !t.bool && (t.char === true || CHAR_NAMES.has(t.name));
  }

  sizeof(id: number): number {
    return this.sizeofAt(id, 0);
  }

  private sizeofAt(id: number, depth: number): number {
    const t = this.resolve(id);
    if (SIZED.has(t.kind)) return t.size!;
    switch (t.kind) {
      case 'ptr':
        return POINTER_SIZE;
      case 'array': {
        if (depth > MAX_NESTING) throw btfError(`type ${id}: arrays nested more than ${MAX_NESTING} deep (a loop?)`);
        if (t.nelems === 0) return 0;
        const size = t.nelems! * this.sizeofAt(t.elemType!, depth + 1);
        if (size > 0xffffffff) throw btfError(`type ${id}: array of ${t.nelems} elements is larger than 4 GiB`);
        return size;
      }
      case 'var':
        if (depth > MAX_NESTING) throw btfError(`type ${id}: nesting too deep`);
        return this.sizeofAt(t.type!, depth + 1);
      default:
        throw btfError(`type ${id} (${this.describe(id)}) has no size`);
    }
  }

  /**
   * Members of a struct/union (or variables of a datasec) with anonymous struct/union members
   * flattened into their parent, bit offsets absolute from the start of `id`, and old-style
   * (INT-encoded) bitfields normalised. Bounds are checked against the type's size.
   */
  layout(id: number): BtfField[] {
    const t = this.resolve(id);
    const out: BtfField[] = [];
    if (t.kind === 'struct' || t.kind === 'union') {
      this.collect(t, 0, out, 0);
    } else if (t.kind === 'datasec') {
      for (const v of t.vars!) {
        const vt = this.at(v.type);
        if (vt.kind !== 'var') continue; // .ksyms functions have no data
        const size = this.sizeofOrZero(vt.type!);
        if (v.offset + size > t.size!) {
          throw btfError(`variable '${vt.name}' (offset ${v.offset}, ${size} bytes) lies outside section ${t.name} (${t.size} bytes)`);
        }
        out.push({ name: vt.name, typeId: vt.type!, bitOffset: v.offset * 8, bitSize: 0 });
      }
    } else {
      throw btfError(`type ${id} (${this.describe(id)}) is not a struct, union or datasec`);
    }
    return out;
  }

  private sizeofOrZero(id: number): number {
    const k = this.resolve(id).kind;
    return k === 'void' || k === 'fwd' || k === 'func' || k === 'func_proto' ? 0 : this.sizeof(id);
  }

  private collect(t: BtfType, base: number, out: BtfField[], depth: number): void {
    if (depth > MAX_NESTING) throw btfError(`type ${t.id}: anonymous members nested more than ${MAX_NESTING} deep (a loop?)`);
    const bits = t.size! * 8;
    const what = this.describe(t.id);
    for (const m of t.members!) {
      const r = this.resolve(m.type);
      let bitOffset = m.bitOffset;
      let bitSize = m.bitfieldSize;
      if (bitSize === 0 && r.kind === 'int' && (r.bits !== r.size! * 8 || r.bitOffset !== 0)) {
        bitSize = r.bits!; // kind_flag=0 bitfield: width and extra offset live in the INT
        bitOffset += r.bitOffset!;
      }
      const label = `member '${m.name || '(anon)'}' of ${what}`;
      if (bitSize > 0) {
        if (r.kind !== 'int' && r.kind !== 'enum' && r.kind !== 'enum64') throw btfError(`${label} is a bitfield of non-integer type ${r.kind}`);
        if (bitSize > r.size! * 8) throw btfError(`${label} is a ${bitSize}-bit bitfield of a ${r.size}-byte type`);
        if (bitOffset + bitSize > bits) throw btfError(`${label} (bits ${bitOffset}..${bitOffset + bitSize - 1}) lies outside its ${t.size}-byte type`);
        if (bitOffset % 8 === 0 && bitSize === r.size! * 8) bitSize = 0; // whole aligned int: read it plainly
      } else {
        if (bitOffset % 8 !== 0) throw btfError(`${label} is at bit offset ${bitOffset}, which is not byte-aligned`);
        const size = this.sizeofOrZero(m.type);
        if (bitOffset / 8 + size > t.size!) {
          throw btfError(`${label} (offset ${bitOffset / 8}, ${size} bytes) extends past the end of its ${t.size}-byte type`);
        }
      }
      if (m.name === '') {
        if (bitSize === 0 && (r.kind === 'struct' || r.kind === 'union')) this.collect(r, base + bitOffset, out, depth + 1);
        continue; // unnamed bitfields are padding
      }
      const tags = this.memberTags(t.id, t.members!.indexOf(m));
      out.push({ name: m.name, typeId: m.type, bitOffset: base + bitOffset, bitSize, ...(tags ? { tags } : {}) });
    }
  }

  private tagIndex?: Map<number, Map<number, string[]>>;

  /** decl_tag strings attached to member `idx` of type `id`. */
  memberTags(id: number, idx: number): string[] | undefined {
    if (!this.tagIndex) {
      this.tagIndex = new Map();
      for (const t of this.idsOf('decl_tag').map((i) => this.at(i))) {
        if (t.componentIdx === undefined || t.componentIdx < 0) continue;
        let byIdx = this.tagIndex.get(t.type!);
        if (!byIdx) this.tagIndex.set(t.type!, (byIdx = new Map()));
        byIdx.set(t.componentIdx, [...(byIdx.get(t.componentIdx) ?? []), t.name]);
      }
    }
    return this.tagIndex.get(id)?.get(idx);
  }

  /** A global-variable section ('.rodata', '.bss', '.data', '.rodata.foo', ...). */
  datasec(name: string): BtfDatasec | undefined {
    const t = this.find(name, 'datasec');
    if (!t) return undefined;
    const vars: BtfDatasecVar[] = [];
    for (const v of t.vars!) {
      const vt = this.at(v.type);
      vars.push({ name: vt.name, typeId: vt.kind === 'var' ? vt.type! : vt.id, varId: vt.id, offset: v.offset, size: v.size });
    }
    return { name: t.name, id: t.id, size: t.size!, vars };
  }

  /** Names of the maps defined in the '.maps' section (BTF-defined maps). */
  maps(): string[] {
    return this.datasec('.maps')?.vars.map((v) => v.name) ?? [];
  }

  /**
   * A BTF-defined map: libbpf's __uint(name, N) is `int (*name)[N]` and __type(name, T) is `T *name`.
   */
  mapTypes(mapName: string): BtfMapTypes | undefined {
    const v = this.datasec('.maps')?.vars.find((x) => x.name === mapName);
    if (!v) return undefined;
    const def = this.resolve(v.typeId);
    if (def.kind !== 'struct') throw btfError(`map '${mapName}' is defined as a ${def.kind}, expected a struct`);
    const out: BtfMapTypes = { ints: {} };
    for (const m of def.members!) {
      const ptr = this.resolve(m.type);
      if (ptr.kind !== 'ptr') continue;
      if (m.name === 'key') out.keyTypeId = ptr.type!;
      else if (m.name === 'value') out.valueTypeId = ptr.type!;
      else {
        const arr = this.resolve(ptr.type!);
        if (arr.kind === 'array') out.ints[m.name] = arr.nelems!;
      }
    }
    const ints = out.ints;
    if (ints.type !== undefined) out.type = ints.type;
    if (ints.max_entries !== undefined) out.maxEntries = ints.max_entries;
    if (ints.map_flags !== undefined) out.mapFlags = ints.map_flags;
    if (ints.key_size !== undefined) out.keySize = ints.key_size;
    else if (out.keyTypeId !== undefined) out.keySize = this.sizeof(out.keyTypeId);
    if (ints.value_size !== undefined) out.valueSize = ints.value_size;
    else if (out.valueTypeId !== undefined) out.valueSize = this.sizeof(out.valueTypeId);
    return out;
  }

  /** C-like spelling of a type, for messages and docs: 'struct event', 'u32', 'char[16]'. */
  describe(id: number, depth = 0): string {
    if (!(Number.isInteger(id) && id >= 0 && id < this.section.count)) return `<bad type ${id}>`;
    const t = this.at(id);
    if (depth > 8) return '...';
    const named = (kw: string): string => `${kw} ${t.name || '(anon)'}`;
    switch (t.kind) {
      case 'void':
        return 'void';
      case 'int':
      case 'float':
      case 'typedef':
        return t.name;
      case 'struct':
      case 'union':
        return named(t.kind);
      case 'enum':
      case 'enum64':
        return named('enum');
      case 'fwd':
        return named(t.fwdKind!);
      case 'ptr':
        return `${this.describe(t.type!, depth + 1)} *`;
      case 'array':
        return `${this.describe(t.elemType!, depth + 1)}[${t.nelems}]`;
      case 'const':
      case 'volatile':
      case 'restrict':
        return `${t.kind} ${this.describe(t.type!, depth + 1)}`;
      case 'type_tag':
        return `${this.describe(t.type!, depth + 1)} __tag(${t.name})`;
      case 'func_proto':
        return `${this.describe(t.type!, depth + 1)} (*)(...)`;
      default:
        return named(t.kind);
    }
  }
}
