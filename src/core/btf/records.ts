/**
 * Decoders for records whose length is the sending program's business, not the struct's: a
 * third-party tool sends a header plus only the bytes of a trailing buffer it used (execsnoop's
 * arguments), or more than the struct says. Every field the record holds is decoded; nothing
 * is refused that can be read.
 */
import { EunomiaError, ErrorCodes } from '../errors.js';
import type { Btf } from './btf.js';
import { compileDecoder, compileValueDecoder, type Decoder, type ValueDecoder } from './decoder.js';

/** Where the bytes past the struct go, base64, when no flexible array member takes them. */
export const EXTRA_KEY = '_extra';

/** A trailing array member: it may be cut short (fixed length) or take what follows (flexible). */
interface Tail {
  name: string;
  offset: number;
  elemSize: number;
  isChar: boolean;
  /** A char array with no tags (TAG_STRINGS, TAG_LENGTH, ...): a plain C string the record itself holds. */
  plain: boolean;
  /** Elements of a flexible array, one by one. */
  elem?: ValueDecoder;
}

function trailingArray(btf: Btf, id: number): { tail?: Tail; flexible?: Tail } {
  const members = btf.layout(id);
  const last = members.reduce<(typeof members)[number] | undefined>((a, m) => (!a || m.bitOffset >= a.bitOffset ? m : a), undefined);
  if (!last || last.bitSize || last.tags?.includes('eunomia.hidden')) return {};
  const t = btf.resolve(last.typeId);
  if (t.kind !== 'array') return {};
  const elemSize = btf.sizeof(t.elemType!);
  if (elemSize === 0) return {};
  const isChar = btf.isChar(t.elemType!);
  const tail: Tail = { name: last.name, offset: last.bitOffset / 8, elemSize, isChar, plain: isChar && !last.tags?.length };
  if (t.nelems !== 0) return { tail };
  if (!tail.isChar) tail.elem = compileValueDecoder(btf, t.elemType!);
  return { flexible: tail };
}

function readerError(typeName: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: ${msg}`);
}

/**
 * A C string of at most `n` bytes at `s`, as the generated decoders read one: short ASCII
 * strings from char codes, since a Buffer#toString call costs more than ~12 bytes of them.
 */
function cstring(b: Buffer, s: number, n: number): string {
  const e = s + n;
  let i = s;
  let hi = 0;
  for (; i < e; i++) {
    const c = b[i];
    if (c === 0) break;
    hi |= c;
  }
  if (hi > 127) return b.toString('utf8', s, i);
  if (i - s > 12) return b.toString('latin1', s, i);
  let r = '';
  for (let k = s; k < i; k++) r += String.fromCharCode(b[k]);
  return r;
}

/** Below this many bytes a loop copies faster than Buffer#copy, whose call costs more than the bytes. */
const LOOP_COPY_MAX = 64;

/**
 * Records of type `id` (a struct or union), of any length from the fixed part (the bytes before a trailing
 * array) up: a shorter record's trailing array is cut to the bytes present (a string to its NUL,
 * an array to its whole elements); a longer record's extra bytes fill a flexible array member
 * (always in the result, "" or [] when the record has no bytes for it), or are kept as base64
 * under EXTRA_KEY. `perf`: perf event arrays pad every record to 8 bytes
 * with its 4-byte size, so up to 7 bytes past the struct are padding, not data.
 */
export function compileRecordDecoder(btf: Btf, id: number, opts: { perf?: boolean } = {}): Decoder {
  const full = compileDecoder(btf, id);
  const { tail, flexible } = btf.resolve(id).kind === 'struct' ? trailingArray(btf, id) : {};
  const size = full.size;
  // A flexible member may start inside the struct's tail padding (u64, u32, then u32 items[]):
  // its data starts there, not at `size`. A struct tagged "eunomia.tail" may stop earlier still.
  const fixed = Math.min(tail?.offset ?? flexible?.offset ?? size, full.minSize ?? size);
  const exact = opts.perf ? Math.ceil((size + 4) / 8) * 8 - 4 : size;
  const typeName = full.typeName;
  const before = tail || flexible ? `the ${fixed} bytes before its trailing array` : fixed < size ? `its ${fixed}-byte head` : `its ${size} bytes`;
  // A shorter record is decoded from here, as if the sender had zero-filled the struct. Bytes
  // from `dirty` on are zero: only those the previous record wrote are cleared, not the whole
  // struct (execsnoop's records fill ~100 of its 544 bytes).
  const scratch = Buffer.alloc(size);
  let dirty = 0;

  function check(b: Buffer, offset: number, length: number): void {
    if (offset !== offset >>> 0 || length !== length >>> 0) throw readerError(typeName, `invalid offset ${String(offset)} or length ${String(length)}`);
    if (!(b instanceof Buffer)) throw readerError(typeName, 'expected a Buffer');
    if (offset + length > b.length) throw readerError(typeName, `need ${length} bytes at offset ${offset}, but the buffer has ${b.length} bytes`);
  }

  /** scratch[0, n) = the record's first n bytes, and zeros after them. */
  function load(b: Buffer, offset: number, n: number): void {
    if (n <= LOOP_COPY_MAX) for (let i = 0; i < n; i++) scratch[i] = b[offset + i];
    else b.copy(scratch, 0, offset, offset + n);
    if (dirty > n) scratch.fill(0, n, dirty);
    dirty = n;
  }

  function short(b: Buffer, offset: number, length: number): Record<string, unknown> {
    if (!(length >= fixed)) throw readerError(typeName, `a record of ${String(length)} bytes, shorter than ${before}`);
    check(b, offset, length);
    if (tail?.plain && length >= tail.offset) {
      // Only the head goes through scratch (its string decodes as ""): the string is read where
      // it is, which copies and clears nothing past the head.
      load(b, offset, tail.offset);
      const data = full.decode(scratch, 0);
      data[tail.name] = cstring(b, offset + tail.offset, length - tail.offset);
      return data;
    }
    load(b, offset, length);
    const data = full.decode(scratch, 0);
    if (tail && !tail.isChar) {
      const cut = data[tail.name];
      if (Array.isArray(cut)) cut.length = Math.max(0, Math.floor((length - tail.offset) / tail.elemSize));
    }
    if (flexible) data[flexible.name] = flex(b, offset + flexible.offset, offset + length);
    return data;
  }

  function flex(b: Buffer, from: number, end: number): unknown {
    if (flexible!.isChar) return cstring(b, from, end - from);
    const items: unknown[] = [];
    for (let p = from; p + flexible!.elemSize <= end; p += flexible!.elemSize) items.push(flexible!.elem!.decode(b, p));
    return items;
  }

  function decode(b: Buffer, offset = 0, length = size): Record<string, unknown> {
    if (length >= size && length <= exact && !flexible) return full.decode(b, offset);
    if (!(length >= size)) return short(b, offset, length);
    const data = full.decode(b, offset); // checks b and offset
    if (length !== length >>> 0 || offset + length > b.length) check(b, offset, length);
    if (flexible) data[flexible.name] = flex(b, offset + flexible.offset, offset + length);
    else if (length > exact) data[EXTRA_KEY] = b.toString('base64', offset + size, offset + length);
    return data;
  }
  return Object.freeze({ typeName, size, minSize: fixed, fields: full.fields, decode });
}
