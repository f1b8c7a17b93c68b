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
  const tail: Tail = { name: last.name, offset: last.bitOffset / 8, elemSize, isChar: btf.isChar(t.elemType!) };
  if (t.nelems !== 0) return { tail };
  if (!tail.isChar) tail.elem = compileValueDecoder(btf, t.elemType!);
  return { flexible: tail };
}

function shortRecord(typeName: string, length: number, fixed: number): EunomiaError {
  return new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: a record of ${length} bytes, shorter than the ${fixed} bytes before its trailing array`);
}

/** A C string of at most `n` bytes at `s`. */
function cstring(b: Buffer, s: number, n: number): string {
  const end = b.indexOf(0, s);
  return b.toString('utf8', s, end < 0 || end > s + n ? s + n : end);
}

/**
 * Records of type `id` (a struct or union), of any length from the fixed part (the bytes before a trailing
 * array) up: a shorter record's trailing array is cut to the bytes present (a string to its NUL,
 * an array to its whole elements); a longer record's extra bytes fill a flexible array member,
 * or are kept as base64 under EXTRA_KEY. `perf`: perf event arrays pad every record to 8 bytes
 * with its 4-byte size, so up to 7 bytes past the struct are padding, not data.
 */
export function compileRecordDecoder(btf: Btf, id: number, opts: { perf?: boolean } = {}): Decoder {
  const full = compileDecoder(btf, id);
  const { tail, flexible } = btf.resolve(id).kind === 'struct' ? trailingArray(btf, id) : {};
  const size = full.size;
  const fixed = tail ? tail.offset : size;
  const exact = opts.perf ? Math.ceil((size + 4) / 8) * 8 - 4 : size;
  const scratch = Buffer.alloc(size);
  const typeName = full.typeName;

  function decode(b: Buffer, offset = 0, length = size): Record<string, unknown> {
    if (length >= size && length <= exact) return full.decode(b, offset);
    if (length < size) {
      if (!(length >= fixed)) throw shortRecord(typeName, length, fixed);
      if (offset + length > b.length) throw new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: need ${length} bytes at offset ${offset}, but the buffer has ${b.length} bytes`);
      // The record as if the sender had zero-filled the struct: fields read as sent, the cut string ends.
      b.copy(scratch, 0, offset, offset + length);
      scratch.fill(0, length);
      const data = full.decode(scratch, 0);
      if (tail && !tail.isChar && Array.isArray(data[tail.name])) data[tail.name] = (data[tail.name] as unknown[]).slice(0, Math.floor((length - tail.offset) / tail.elemSize));
      return data;
    }
    const data = full.decode(b, offset);
    const from = offset + size;
    const end = offset + length;
    if (end > b.length) throw new EunomiaError(ErrorCodes.READER, `cannot decode ${typeName}: need ${length} bytes at offset ${offset}, but the buffer has ${b.length} bytes`);
    if (flexible?.isChar) data[flexible.name] = cstring(b, from, end - from);
    else if (flexible) {
      const items: unknown[] = [];
      for (let p = from; p + flexible.elemSize <= end; p += flexible.elemSize) items.push(flexible.elem!.decode(b, p));
      data[flexible.name] = items;
    } else data[EXTRA_KEY] = b.toString('base64', from, end);
    return data;
  }
  return Object.freeze({ typeName, size, minSize: fixed, fields: full.fields, decode });
}
