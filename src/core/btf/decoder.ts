/**
 * Event decoders generated from BTF. Each struct gets its own function, built once with
 * `new Function`, with every offset baked in as a constant and one object literal per struct,
 * so V8 sees a fixed shape and inlines all reads. Names from BTF only ever enter the
 * generated source through JSON.stringify, so a hostile object cannot inject code.
 */
import { EunomiaError, ErrorCodes } from '../errors.js';
import { Btf, type BtfField, type BtfType } from './btf.js';

/** A top-level field (anonymous members flattened), for docs and table columns. */
export interface FieldInfo {
  name: string;
  /** Byte offset; for bitfields, of the first byte holding bits. */
  offset: number;
  /** Bytes; for bitfields, the bytes the bits span. */
  size: number;
  /** u8..u128, s8..s128, bool, char, string, strings, bytes, array, struct, union, enum, ptr, float, bitfield. */
  kind: string;
  typeId: number;
  /** C spelling of the type, e.g. 'char[16]', 'u32'. */
  type: string;
  bitOffset?: number;
  bitSize?: number;
  /** Tagged "eunomia.hidden": not in decoded objects (the runtime reads it itself). */
  hidden?: true;
}

export interface Decoder {
  readonly typeName: string;
  /** Bytes a whole record has; decode() reads at most [offset, offset + size). */
  readonly size: number;
  /**
   * Bytes a record must have, when the struct allows shorter ones (a member tagged
   * "eunomia.tail": a record may end before it); else `size`.
   */
  readonly minSize?: number;
  readonly fields: FieldInfo[];
  /** `length`: the record's, when known; one shorter than `size` is decoded as if zero-filled. */
  decode(buf: Buffer, offset?: number, length?: number): Record<string, unknown>;
}

/** Decoder for any sized type (map keys/values that are plain ints, arrays, ...). */
export interface ValueDecoder {
  readonly typeName: string;
  readonly size: number;
  decode(buf: Buffer, offset?: number): unknown;
}

/** Larger types are not events; refusing them also bounds work on hostile BTF. */
export const MAX_DECODE_SIZE = 1 << 24;
const MAX_EXPRESSIONS = 50_000;
const MAX_WORK = 1 << 24;
const MAX_DEPTH = 64;
const UNROLL_SCALARS = 16;
const UNROLL_COMPOSITES = 4;
const SWITCH_MAX_CASES = 256;
const CACHED_STRING_MAX = 32;
/** Member tags (btf_decl_tag) the decoder understands: see docs/btf.md. */
export const TAG_STRINGS = 'eunomia.strings';
export const TAG_HIDDEN = 'eunomia.hidden';
/**
 * A record may end before this (top-level) member: it and every member after it then decode as
 * zero bytes would. A program sends a big struct's head alone (an exit has no exec strings).
 */
export const TAG_TAIL = 'eunomia.tail';
/**
 * "eunomia.length:FIELD" on a char array (a string or "eunomia.strings"): only its first FIELD
 * bytes (an integer member of the same struct) are data; the program need not zero the rest.
 */
export const TAG_LENGTH = 'eunomia.length:';

function btfError(msg: string, cause?: unknown): EunomiaError {
  return new EunomiaError(ErrorCodes.BTF, `BTF: ${msg}`, cause === undefined ? {} : { cause });
}

// Shared helpers, pasted into each generated module so V8 inlines them at their call sites.
const HELPERS: Record<string, string> = {
  u64: `function u64(b, p) {
  const lo = (b[p] | b[p + 1] << 8 | b[p + 2] << 16 | b[p + 3] << 24) >>> 0;
  const hi = (b[p + 4] | b[p + 5] << 8 | b[p + 6] << 16 | b[p + 7] << 24) >>> 0;
  return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}`,
  s64: `function s64(b, p) {
  const lo = (b[p] | b[p + 1] << 8 | b[p + 2] << 16 | b[p + 3] << 24) >>> 0;
  const hi = b[p + 4] | b[p + 5] << 8 | b[p + 6] << 16 | b[p + 7] << 24;
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * 4294967296 + lo;
    if (v >= -9007199254740991) return v;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}`,
  u128: `function u128(b, p) {
  return (b.readBigUInt64LE(p + 8) << 64n) | b.readBigUInt64LE(p);
}`,
  s128: `function s128(b, p) {
  return (b.readBigInt64LE(p + 8) << 64n) | b.readBigUInt64LE(p);
}`,
  // Strings: scan to NUL once, noting non-ASCII bytes. Short ASCII strings are built by
  // char code: flat strings below 13 chars, cheaper than a Buffer#toString call; longer or
  // non-ASCII ones go through toString ('utf8' replaces invalid sequences, never throws).
  str: `function str(b, s, n) {
  const e = s + n;
  let i = s, hi = 0;
  for (; i < e; i++) { const c = b[i]; if (c === 0) break; hi |= c; }
  return strMake(b, s, i, hi);
}
function strMake(b, s, i, hi) {
  const len = i - s;
  if (hi > 127) return b.toString('utf8', s, i);
  if (len > 12) return b.toString('latin1', s, i);
  let r = '';
  for (let k = s; k < i; k++) r += String.fromCharCode(b[k]);
  return r;
}`,
  // Short fields (comm[16]) repeat a lot, so a direct-mapped cache of recent strings avoids
  // allocating. When most lookups miss (unique strings), caching only costs (old-space
  // stores, promotion), so it switches itself off for a while.
  strc: `const sCache = new Array(1024).fill('');
let sCalls = 0, sMiss = 0, sOff = 0;
function strc(b, s, n) {
  const e = s + n;
  let i = s, hi = 0, h = 0;
  for (; i < e; i++) { const c = b[i]; if (c === 0) break; hi |= c; h = (h * 31 + c) | 0; }
  const len = i - s;
  if (len === 0) return '';
  if (hi > 127) return b.toString('utf8', s, i);
  if (sOff > 0) { sOff--; return strMake(b, s, i, hi); }
  if (++sCalls === 1024) { if (sMiss > 256) sOff = 65536; sCalls = 0; sMiss = 0; }
  const slot = (h ^ (h >>> 11)) & 1023;
  const c = sCache[slot];
  if (c.length === len) {
    let k = 0;
    while (k < len && c.charCodeAt(k) === b[s + k]) k++;
    if (k === len) return c;
  }
  sMiss++;
  const r = strMake(b, s, i, hi);
  sCache[slot] = r;
  return r;
}`,
  // A char array tagged "eunomia.strings" holds NUL-separated strings (argv): a string list.
  // Trailing empty entries are the zero fill after the last string, found by one native
  // compare with zeros (ZEROS, as long as the longest such array) where a NUL starts an entry,
  // rather than byte by byte from the array's end: argv is short, its array is not.
  strs: `function strs(b, s, n) {
  const out = [];
  const e = s + n;
  let p = s;
  while (p < e) {
    if (b[p] === 0 && b.compare(ZEROS, 0, e - p, p, e) === 0) break;
    let q = p, hi = 0;
    for (; q < e; q++) { const c = b[q]; if (c === 0) break; hi |= c; }
    out.push(strMake(b, p, q, hi));
    p = q + 1;
  }
  return out;
}`,
  clampLen: `function clampLen(v, n) { return v > 0 ? (v < n ? v : n) : 0; }`,
  bits: `function bits(b, p, span, shift, n, signed) {
  if (span <= 6) {
    let v = 0;
    for (let k = span - 1; k >= 0; k--) v = v * 256 + b[p + k];
    v = Math.floor(v / 2 ** shift) % 2 ** n;
    return signed && v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
  let w = 0n;
  for (let k = span - 1; k >= 0; k--) w = (w << 8n) | BigInt(b[p + k]);
  w = BigInt.asUintN(n, w >> BigInt(shift));
  if (signed) w = BigInt.asIntN(n, w);
  return w >= -9007199254740991n && w <= 9007199254740991n ? Number(w) : w;
}`,
};

function key(name: string): string {
  // A literal "__proto__" key would set the prototype instead of creating a property.
  return name === '__proto__' ? '["__proto__"]' : JSON.stringify(name);
}

function at(base: string, off: number): string {
  return off === 0 ? base : `${base} + ${off}`;
}

function enumLiteral(v: number | bigint): string {
  return typeof v === 'bigint' ? `${v}n` : String(v);
}

class Generator {
  readonly helpers = new Set<string>();
  readonly decls: string[] = [];
  readonly consts: unknown[] = [];
  private readonly enumFns = new Map<number, string>();
  private readonly active = new Set<number>();
  private vars = 0;
  private exprs = 0;
  private work = 0;
  private depth = 0;
  /** Top-level members from this byte on are not in the record: they decode as zero (TAG_TAIL). */
  zeroFrom = Infinity;
  /** Bytes of the longest "eunomia.strings" array (ZEROS, for strs). */
  longestStrings = 0;

  constructor(readonly btf: Btf) {}

  private count(weight: number): void {
    this.exprs++;
    this.work += weight;
    if (this.exprs > MAX_EXPRESSIONS || this.work > MAX_WORK) throw btfError('type is too complex to decode');
  }

  private use(helper: string): string {
    this.helpers.add(helper);
    return helper;
  }

  /** Expression reading an integer of `size` bytes at base+off (a number, or bigint beyond 53 bits). */
  int(size: number, signed: boolean, base: string, off: number): string {
    const p = (k: number): string => `b[${at(base, off + k)}]`;
    switch (size) {
      case 1:
        return signed ? `(${p(0)} << 24 >> 24)` : p(0);
      case 2:
        return signed ? `((${p(0)} | ${p(1)} << 8) << 16 >> 16)` : `(${p(0)} | ${p(1)} << 8)`;
      case 4: {
        const v = `${p(0)} | ${p(1)} << 8 | ${p(2)} << 16 | ${p(3)} << 24`;
        return signed ? `(${v})` : `((${v}) >>> 0)`;
      }
      case 8:
        return `${this.use(signed ? 's64' : 'u64')}(b, ${at(base, off)})`;
      case 16:
        return `${this.use(signed ? 's128' : 'u128')}(b, ${at(base, off)})`;
      default:
        throw btfError(`cannot decode a ${size}-byte integer`);
    }
  }

  private enumFn(t: BtfType): string {
    let fn = this.enumFns.get(t.id);
    if (fn) return fn;
    fn = `e${t.id}`;
    this.enumFns.set(t.id, fn);
    const seen = new Set<number | bigint>();
    const cases: [string, string][] = [];
    for (const v of t.values!) {
      if (seen.has(v.value)) continue; // aliases: the first name wins
      seen.add(v.value);
      cases.push([enumLiteral(v.value), JSON.stringify(v.name)]);
    }
    if (cases.length <= SWITCH_MAX_CASES) {
      const body = cases.map(([v, n]) => `case ${v}: return ${n};`).join(' ');
      this.decls.push(`function ${fn}(v) { switch (v) { ${body} default: return v; } }`);
    } else {
      const map = new Map<number | bigint, string>();
      for (const v of t.values!) if (!map.has(v.value)) map.set(v.value, v.name);
      this.consts.push(map);
      const m = `m${t.id}`;
      this.decls.push(`const ${m} = H[${this.consts.length - 1}];`);
      this.decls.push(`function ${fn}(v) { const n = ${m}.get(v); return n === undefined ? v : n; }`);
    }
    return fn;
  }

  /** Expression for the value of type `id` at base+off, or null when the type is skipped. */
  value(id: number, base: string, off: number, weight: number, out: string[]): string | null {
    const t = this.btf.resolve(id);
    switch (t.kind) {
      case 'int':
        this.count(weight);
        if (t.bool) return `(${this.int(t.size!, false, base, off)} !== 0)`;
        return this.int(t.size!, t.signed!, base, off);
      case 'enum':
      case 'enum64':
        this.count(weight);
        return `${this.enumFn(t)}(${this.int(t.size!, t.signed!, base, off)})`;
      case 'ptr':
        this.count(weight);
        return this.int(8, false, base, off);
      case 'float':
        this.count(weight);
        if (t.size === 4) return `b.readFloatLE(${at(base, off)})`;
        if (t.size === 8) return `b.readDoubleLE(${at(base, off)})`;
        return null; // half/long double: no JS equivalent
      case 'array':
        return this.array(t, base, off, weight, out);
      case 'struct':
      case 'union':
      case 'datasec':
        return this.composite(t, base, off, weight, out);
      default:
        return null; // void, fwd, func, func_proto: nothing to read
    }
  }

  private array(t: BtfType, base: string, off: number, weight: number, out: string[]): string | null {
    const n = t.nelems!;
    if (n === 0) return null; // flexible/zero-length: its data is past `size`
    const elem = t.elemType!;
    if (this.btf.isChar(elem)) {
      this.count(weight * n);
      this.use('str'); // strMake is shared
      return `${this.use(n <= CACHED_STRING_MAX ? 'strc' : 'str')}(b, ${at(base, off)}, ${n})`;
    }
    const esz = this.btf.sizeof(elem);
    if (esz === 0) return null;
    const r = this.btf.resolve(elem).kind;
    const composite = r === 'struct' || r === 'union' || r === 'array';
    if (n <= (composite ? UNROLL_COMPOSITES : UNROLL_SCALARS)) {
      const items: string[] = [];
      for (let i = 0; i < n; i++) {
        const e = this.value(elem, base, off + i * esz, weight, out);
        if (e === null) return null;
        items.push(e);
      }
      return `[${items.join(', ')}]`;
    }
    const k = this.vars++;
    const [a, i, q] = [`a${k}`, `i${k}`, `q${k}`];
    const body: string[] = [];
    const e = this.value(elem, q, 0, weight * n, body);
    if (e === null) return null;
    out.push(
      `const ${a} = [];`,
      `for (let ${i} = 0, ${q} = ${at(base, off)}; ${i} < ${n}; ${i}++, ${q} += ${esz}) {`,
      ...body,
      `${a}.push(${e});`,
      '}',
    );
    return a;
  }

  private composite(t: BtfType, base: string, off: number, weight: number, out: string[]): string {
    if (this.active.has(t.id)) throw btfError(`${this.btf.describe(t.id)} (type ${t.id}) contains itself`);
    if (++this.depth > MAX_DEPTH) throw btfError(`types nested more than ${MAX_DEPTH} deep`);
    this.active.add(t.id);
    const parts: string[] = [];
    const seen = new Set<string>();
    const top = this.depth === 1;
    const layout = this.btf.layout(t.id);
    for (const f of layout) {
      if (seen.has(f.name) || f.tags?.includes(TAG_HIDDEN)) continue;
      const len = f.bitSize ? undefined : this.lengthOf(f, layout, base, off, top);
      const e =
        top && f.bitOffset / 8 >= this.zeroFrom
          ? this.zero(f, weight)
          : f.bitSize
            ? this.bitfield(f, base, off, weight)
            : f.tags?.includes(TAG_STRINGS) && this.isCharArray(f.typeId)
              ? this.strings(f.typeId, base, off + f.bitOffset / 8, weight, len)
              : len !== undefined
                ? this.counted(f.typeId, base, off + f.bitOffset / 8, weight, len)
                : this.value(f.typeId, base, off + f.bitOffset / 8, weight, out);
      if (e === null) continue;
      seen.add(f.name);
      parts.push(`${key(f.name)}: ${e}`);
    }
    this.active.delete(t.id);
    this.depth--;
    return `{ ${parts.join(', ')} }`;
  }

  private isCharArray(id: number): boolean {
    const t = this.btf.resolve(id);
    return t.kind === 'array' && this.btf.isChar(t.elemType!) && t.nelems! > 0;
  }

  /** `len`: an expression for the bytes that hold data (TAG_LENGTH), else all `n`. */
  private strings(id: number, base: string, off: number, weight: number, len?: string): string {
    const n = this.btf.resolve(id).nelems!;
    this.count(weight * n);
    this.use('str'); // strMake is shared
    this.longestStrings = Math.max(this.longestStrings, n);
    return `${this.use('strs')}(b, ${at(base, off)}, ${len ?? n})`;
  }

  /** A char array of which only `len` bytes hold data (TAG_LENGTH): a string up to its NUL or `len`. */
  private counted(id: number, base: string, off: number, weight: number, len: string): string {
    this.count(weight * this.btf.resolve(id).nelems!);
    this.use('str');
    return `str(b, ${at(base, off)}, ${len})`;
  }

  /**
   * For a char array tagged "eunomia.length:FIELD": an expression for FIELD's value clamped to
   * the array (0 where the record stops before FIELD). undefined without the tag.
   */
  private lengthOf(f: BtfField, layout: BtfField[], base: string, off: number, top: boolean): string | undefined {
    const tag = f.tags?.find((x) => x.startsWith(TAG_LENGTH));
    if (tag === undefined) return undefined;
    const arr = this.btf.resolve(f.typeId);
    const m = layout.find((x) => x.name === tag.slice(TAG_LENGTH.length));
    const mt = m && !m.bitSize ? this.btf.resolve(m.typeId) : undefined;
    if (!this.isCharArray(f.typeId) || !mt || mt.kind !== 'int' || mt.size! > 4) {
      throw btfError(`member ${f.name}: "${tag}" needs a char array and an integer member (of at most 4 bytes) by that name`);
    }
    if (top && m!.bitOffset / 8 >= this.zeroFrom) return '0';
    return `${this.use('clampLen')}(${this.int(mt.size!, mt.signed!, base, off + m!.bitOffset / 8)}, ${arr.nelems})`;
  }

  /**
   * What a member the record does not have decodes to: its value in zero bytes. A constant for
   * scalars and strings; anything else is decoded from a zero buffer, so it is a fresh value
   * (an array, an object) each time, as when read.
   */
  private zero(f: BtfField, weight: number): string | null {
    this.count(weight);
    const t = this.btf.resolve(f.typeId);
    const isEnum = t.kind === 'enum' || t.kind === 'enum64';
    if (f.bitSize) return isEnum ? `${this.enumFn(t)}(0)` : t.bool ? 'false' : '0';
    if (f.tags?.includes(TAG_STRINGS) && this.isCharArray(f.typeId)) return '[]';
    if (isEnum) return `${this.enumFn(t)}(0)`;
    if (t.kind === 'int') return t.bool ? 'false' : t.size === 16 ? '0n' : '0';
    if (t.kind === 'ptr') return '0';
    if (t.kind === 'array' && this.isCharArray(f.typeId)) return '""';
    const body: string[] = [];
    const e = this.value(f.typeId, '0', 0, weight, body);
    if (e === null) return null;
    this.consts.push(Buffer.alloc(this.btf.sizeof(f.typeId)));
    const fn = `z${this.vars++}`;
    this.decls.push(`function ${fn}(b) {`, ...body, `return ${e};`, '}');
    return `${fn}(H[${this.consts.length - 1}])`;
  }

  private bitfield(f: BtfField, base: string, off: number, weight: number): string {
    this.count(weight);
    const t = this.btf.resolve(f.typeId);
    const signed = t.signed === true;
    const n = f.bitSize;
    const byte = off + Math.floor(f.bitOffset / 8);
    const shift = f.bitOffset % 8;
    const span = Math.ceil((shift + n) / 8);
    let e: string;
    if (shift + n <= 32) {
      const bytes: string[] = [];
      for (let k = 0; k < span; k++) bytes.push(k === 0 ? `b[${at(base, byte)}]` : `b[${at(base, byte + k)}] << ${8 * k}`);
      const raw = bytes.join(' | ');
      if (signed) e = `((${raw}) << ${32 - shift - n} >> ${32 - n})`;
      else if (n === 32) e = `((${raw}) >>> 0)`;
      else e = `((${raw}) >>> ${shift} & ${2 ** n - 1})`;
    } else {
      e = `${this.use('bits')}(b, ${at(base, byte)}, ${span}, ${shift}, ${n}, ${signed})`;
    }
    if (t.kind === 'enum' || t.kind === 'enum64') return `${this.enumFn(t)}(${e})`;
    if (t.bool) return `(${e} !== 0)`;
    return e;
  }
}

function outOfBounds(typeName: string) {
  return (b: unknown, o: unknown, size: number): EunomiaError => {
    if (!Buffer.isBuffer(b)) return new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: expected a Buffer, got ${b === null ? 'null' : typeof b === 'object' ? (b.constructor?.name ?? 'an object') : typeof b}`);
    const len = b.length;
    return new EunomiaError(
      ErrorCodes.READER,
      `cannot decode ${typeName}: need ${size} bytes at offset ${o === undefined ? 0 : String(o)}, but the buffer has ${len} bytes`,
    );
  };
}

function shortRecord(typeName: string, minSize: number) {
  return (length: unknown): EunomiaError => new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: a record of ${String(length)} bytes, shorter than its ${minSize}-byte head`);
}

/** `minSize` < `size`: records may stop there (TAG_TAIL); a shorter one decodes through `head`. */
function build(btf: Btf, id: number, typeName: string, size: number, minSize = size): (buf: Buffer, offset?: number, length?: number) => unknown {
  const g = new Generator(btf);
  g.consts.push(outOfBounds(typeName), Buffer, shortRecord(typeName, minSize));
  const out: string[] = [];
  const expr = g.value(id, 'o', 0, 1, out);
  if (expr === null) throw btfError(`${typeName} has nothing to decode`);
  // `>>> 0` both validates (integer, 0..2^32-1) and gives V8 an int32 to index with, even
  // when the caller's offset arithmetic produced a heap double.
  // Plain Uint8Arrays lack Buffer#toString(encoding, start, end) and would decode strings wrongly.
  const check = (n: number): string[] => [
    'const o = offset === undefined ? 0 : offset >>> 0;',
    `if ((offset !== undefined && o !== offset) || o + ${n} > b.length || !(b instanceof Buf)) throw H[0](b, offset, ${n});`,
  ];
  let head: string[] = [];
  if (minSize < size) {
    g.zeroFrom = minSize;
    const headOut: string[] = [];
    const headExpr = g.value(id, 'o', 0, 1, headOut)!;
    head = ['function head(b, offset, length) {', `if (!(length >= ${minSize})) throw H[2](length);`, ...check(minSize), ...headOut, `return ${headExpr};`, '}'];
  }
  if (g.longestStrings) g.consts.push(Buffer.alloc(g.longestStrings));
  const src = [
    '"use strict";',
    ...[...g.helpers].map((h) => HELPERS[h]!),
    ...g.decls,
    'const Buf = H[1];', // a context constant: cheaper than the `Buffer` global on every call
    ...(g.longestStrings ? [`const ZEROS = H[${g.consts.length - 1}];`] : []),
    ...head,
    'return function decode(b, offset, length) {',
    ...(minSize < size ? [`if (length !== undefined && length < ${size}) return head(b, offset, length);`] : []),
    ...check(size),
    ...out,
    `return ${expr};`,
    '};',
  ].join('\n');
  try {
    return new Function('H', src)(g.consts) as (buf: Buffer, offset?: number, length?: number) => unknown;
  } catch (e) {
    throw btfError(`internal error generating a decoder for ${typeName}: ${(e as Error).message}`, e);
  }
}

function lookup(btf: Btf, typeIdOrName: number | string): number {
  if (typeof typeIdOrName === 'number') return btf.type(typeIdOrName).id;
  const candidates = btf.findAll(typeIdOrName);
  // Prefer the struct/union itself over typedefs or variables of the same name.
  const best =
    candidates.find((t) => t.kind === 'struct' || t.kind === 'union') ??
    candidates.find((t) => t.kind === 'typedef' || t.kind === 'datasec') ??
    candidates.find((t) => t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64' || t.kind === 'float');
  if (!best) throw btfError(`type '${typeIdOrName}' not found (is it used by the program? clang drops unused types)`);
  return best.id;
}

function fieldKind(btf: Btf, f: BtfField): string {
  if (f.bitSize) return 'bitfield';
  if (f.tags?.includes(TAG_STRINGS)) return 'strings';
  const t = btf.resolve(f.typeId);
  switch (t.kind) {
    case 'int':
      if (t.bool) return 'bool';
      if (btf.isChar(f.typeId)) return 'char';
      return `${t.signed ? 's' : 'u'}${t.size! * 8}`;
    case 'enum64':
      return 'enum';
    case 'array':
      if (btf.isChar(t.elemType!)) return 'string';
      return btf.resolve(t.elemType!).kind === 'int' && btf.sizeof(t.elemType!) === 1 ? 'bytes' : 'array';
    default:
      return t.kind;
  }
}

function fieldInfos(btf: Btf, id: number): FieldInfo[] {
  const out: FieldInfo[] = [];
  const seen = new Set<string>();
  for (const f of btf.layout(id)) {
    const t = btf.resolve(f.typeId);
    const k = t.kind;
    // Same skips as the generator, so `fields` matches decoded keys (plus hidden ones, marked).
    if (seen.has(f.name) || k === 'void' || k === 'fwd' || k === 'func' || k === 'func_proto') continue;
    if (k === 'float' && t.size !== 4 && t.size !== 8) continue;
    if (k === 'array' && (t.nelems === 0 || btf.sizeof(f.typeId) === 0)) continue;
    seen.add(f.name);
    const info: FieldInfo = {
      name: f.name,
      offset: Math.floor(f.bitOffset / 8),
      size: f.bitSize ? Math.ceil(((f.bitOffset % 8) + f.bitSize) / 8) : btf.sizeof(f.typeId),
      kind: fieldKind(btf, f),
      typeId: f.typeId,
      type: btf.describe(f.typeId),
    };
    if (f.bitSize) {
      info.bitOffset = f.bitOffset;
      info.bitSize = f.bitSize;
    }
    if (f.tags?.includes(TAG_HIDDEN)) info.hidden = true;
    out.push(Object.freeze(info));
  }
  return out;
}

/** Offset of the member tagged TAG_TAIL, where a record may end; undefined without one. */
function tailOffset(btf: Btf, id: number, typeName: string): number | undefined {
  const t = btf.resolve(id);
  if (t.kind !== 'struct') return undefined;
  const f = btf.layout(id).find((m) => m.tags?.includes(TAG_TAIL));
  if (!f) return undefined;
  if (f.bitSize || f.bitOffset % 8 !== 0 || f.bitOffset === 0) throw btfError(`${typeName}.${f.name}: "${TAG_TAIL}" needs a whole-byte member after the first`);
  return f.bitOffset / 8;
}

const cache = new WeakMap<Btf, Map<number, Decoder>>();

function guard<T>(typeIdOrName: number | string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EunomiaError) throw e;
    // Hostile BTF must never surface as a RangeError/TypeError from deep inside.
    throw btfError(`cannot build a decoder for ${String(typeIdOrName)}: ${(e as Error).message}`, e);
  }
}

function checkSize(typeName: string, size: number): void {
  if (size > MAX_DECODE_SIZE) throw btfError(`${typeName} is ${size} bytes; decoders are limited to ${MAX_DECODE_SIZE}`);
}

/** Decoder for a struct, union or datasec (by type id or name); cached per Btf. */
export function compileDecoder(btf: Btf, typeIdOrName: number | string): Decoder {
  return guard(typeIdOrName, () => {
    const id = lookup(btf, typeIdOrName);
    let perBtf = cache.get(btf);
    const hit = perBtf?.get(id);
    if (hit) return hit;
    const t = btf.resolve(id);
    // `typedef struct { ... } event_t;` is best known by the typedef's name.
    const typeName = t.name || btf.type(id).name || btf.describe(t.id);
    if (t.kind !== 'struct' && t.kind !== 'union' && t.kind !== 'datasec') {
      throw btfError(`cannot decode ${btf.describe(id)} as a record: expected a struct or union, got ${t.kind}`);
    }
    const size = btf.sizeof(id);
    checkSize(typeName, size);
    const fields = Object.freeze(fieldInfos(btf, id)) as FieldInfo[];
    const minSize = tailOffset(btf, id, typeName) ?? size;
    const decode = build(btf, id, typeName, size, minSize) as Decoder['decode'];
    const dec: Decoder = Object.freeze({ typeName, size, minSize, fields, decode });
    if (!perBtf) cache.set(btf, (perBtf = new Map()));
    perBtf.set(id, dec);
    return dec;
  });
}

/** Decoder returning the plain value of any sized type: a number for `u32`, an array for `u8[16]`, ... */
export function compileValueDecoder(btf: Btf, typeIdOrName: number | string): ValueDecoder {
  return guard(typeIdOrName, () => {
    const id = lookup(btf, typeIdOrName);
    const typeName = btf.describe(id);
    const size = btf.sizeof(id);
    checkSize(typeName, size);
    const decode = build(btf, id, typeName, size);
    return Object.freeze({ typeName, size, decode });
  });
}

/** Decode one datasec variable (e.g. a .rodata global) from the section's bytes. */
export function decodeVariable(btf: Btf, section: string, name: string, data: Buffer): unknown {
  const sec = btf.datasec(section);
  const v = sec?.vars.find((x) => x.name === name);
  if (!v) throw btfError(`no variable '${name}' in section ${section}`);
  return compileValueDecoder(btf, v.typeId).decode(data, v.offset);
}
