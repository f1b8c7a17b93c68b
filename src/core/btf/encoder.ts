/**
 * Writes JS values into buffers laid out per BTF: .rodata/.bss/.data globals and map keys/values
 * before load. Not a hot path, so it interprets the type instead of generating code; it is strict
 * instead, because its input comes from users (CLI options, HTTP requests).
 */
import { EunomiaError, ErrorCodes } from '../errors.js';
import { Btf, type BtfField, type BtfType } from './btf.js';

const MAX_DEPTH = 64;
const MAX_LISTED = 20;

function optionError(what: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OPTION, `${what}: ${msg}`);
}

function btfError(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.BTF, `BTF: ${msg}`);
}

/** How a received value reads in a message. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return String(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length} elements`;
  if (typeof v === 'function') return 'a function';
  return 'an object';
}

function list(names: string[]): string {
  return names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(', ')}, ...` : names.join(', ');
}

function range(bits: number, signed: boolean): [bigint, bigint] {
  return signed ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n] : [0n, (1n << BigInt(bits)) - 1n];
}

const INT_STRING = /^([+-]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)$/i;

/** An integer from a number, bigint or integer string (JSON cannot carry u64 exactly); undefined if not one. */
function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string') {
    const m = INT_STRING.exec(v.trim());
    if (!m) return undefined;
    const n = BigInt(m[2]!);
    return m[1] === '-' ? -n : n;
  }
  return undefined;
}

function integer(v: unknown, bits: number, signed: boolean, what: string, note = ''): bigint {
  const [lo, hi] = range(bits, signed);
  const n = toBigInt(v);
  if (n === undefined || n < lo || n > hi) throw optionError(what, `expected an integer ${lo}..${hi}${note}, got ${show(v)}`);
  return n;
}

function writeInt(target: Buffer, off: number, size: number, n: bigint): void {
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++) {
    target[off + i] = Number(u & 0xffn);
    u >>= 8n;
  }
}

function enumValue(t: BtfType, v: unknown, what: string, bits: number): bigint {
  if (typeof v === 'string') {
    const hit = t.values!.find((e) => e.name === v);
    if (hit) return BigInt(hit.value);
  }
  const n = toBigInt(v);
  const [lo, hi] = range(bits, t.signed === true);
  if (n === undefined || n < lo || n > hi) {
    throw optionError(what, `expected one of ${list(t.values!.map((e) => e.name))} or an integer ${lo}..${hi}, got ${show(v)}`);
  }
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

class Encoder {
  private depth = 0;
  constructor(
    private readonly btf: Btf,
    private readonly target: Buffer,
  ) {}

  encode(id: number, v: unknown, off: number, what: string): void {
    if (++this.depth > MAX_DEPTH) throw btfError(`types nested more than ${MAX_DEPTH} deep`);
    try {
      this.encodeAt(id, v, off, what);
    } finally {
      this.depth--;
    }
  }

  private encodeAt(id: number, v: unknown, off: number, what: string): void {
    const btf = this.btf;
    const t = btf.resolve(id);
    const target = this.target;
    switch (t.kind) {
      case 'int': {
        if (t.bool) {
          if (v !== true && v !== false && v !== 0 && v !== 1) throw optionError(what, `expected a boolean, got ${show(v)}`);
          writeInt(target, off, t.size!, v ? 1n : 0n);
          return;
        }
        if (typeof v === 'string' && btf.isChar(id) && Buffer.byteLength(v) === 1) v = Buffer.from(v)[0];
        writeInt(target, off, t.size!, integer(v, t.size! * 8, t.signed!, what));
        return;
      }
      case 'ptr':
        writeInt(target, off, 8, v === null ? 0n : integer(v, 64, false, what));
        return;
      case 'enum':
      case 'enum64':
        writeInt(target, off, t.size!, enumValue(t, v, what, t.size! * 8));
        return;
      case 'float':
        if (typeof v !== 'number') throw optionError(what, `expected a number, got ${show(v)}`);
        if (t.size === 4) target.writeFloatLE(v, off);
        else if (t.size === 8) target.writeDoubleLE(v, off);
        else throw btfError(`${what}: cannot encode a ${t.size}-byte float`);
        return;
      case 'array':
        this.array(t, v, off, what);
        return;
      case 'struct':
      case 'union':
        if (!isPlainObject(v)) throw optionError(what, `expected an object with fields of ${btf.describe(t.id)}, got ${show(v)}`);
        target.fill(0, off, off + t.size!); // fields not given are zero
        this.fields(t, v, off, what, '.');
        return;
      case 'datasec':
        // Only the variables given are written: the others keep their initial values.
        if (!isPlainObject(v)) throw optionError(what, `expected an object of ${t.name} variables, got ${show(v)}`);
        this.fields(t, v, off, what, ' ');
        return;
      default:
        throw btfError(`${what}: cannot encode a value of type ${btf.describe(id)}`);
    }
  }

  private array(t: BtfType, v: unknown, off: number, what: string): void {
    const btf = this.btf;
    const n = t.nelems!;
    const elem = t.elemType!;
    const esz = n === 0 ? 0 : btf.sizeof(elem);
    const target = this.target;
    if (btf.isChar(elem) && typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8');
      if (bytes.length > n - 1) {
        throw optionError(what, `expected a string of at most ${Math.max(0, n - 1)} bytes (char[${n}] with its NUL), got ${bytes.length} bytes: ${show(v)}`);
      }
      target.fill(0, off, off + n);
      bytes.copy(target, off);
      return;
    }
    if (v instanceof Uint8Array && esz === 1 && btf.resolve(elem).kind === 'int') {
      if (v.length > n) throw optionError(what, `expected at most ${n} bytes, got ${v.length}`);
      target.fill(0, off, off + n);
      target.set(v, off);
      return;
    }
    if (!Array.isArray(v)) {
      const expected = btf.isChar(elem) ? `a string of at most ${Math.max(0, n - 1)} bytes` : `an array of at most ${n} elements`;
      throw optionError(what, `expected ${expected}, got ${show(v)}`);
    }
    if (v.length > n) throw optionError(what, `expected an array of at most ${n} elements, got ${v.length}`);
    target.fill(0, off, off + n * esz);
    for (let i = 0; i < v.length; i++) this.encode(elem, v[i], off + i * esz, `${what}[${i}]`);
  }

  private fields(t: BtfType, v: Record<string, unknown>, off: number, what: string, sep: string): void {
    const btf = this.btf;
    const byName = new Map<string, BtfField>();
    for (const f of btf.layout(t.id)) if (!byName.has(f.name)) byName.set(f.name, f);
    for (const [k, value] of Object.entries(v)) {
      const f = byName.get(k);
      const path = `${what}${sep}${k}`;
      if (!f) throw optionError(what, `unknown field ${JSON.stringify(k)} (${btf.describe(t.id)} has: ${list([...byName.keys()])})`);
      if (value === undefined) continue;
      if (f.bitSize) this.bitfield(f, value, off, path);
      else this.encode(f.typeId, value, off + f.bitOffset / 8, path);
    }
  }

  private bitfield(f: BtfField, v: unknown, off: number, what: string): void {
    const t = this.btf.resolve(f.typeId);
    const n = f.bitSize;
    let value: bigint;
    if (t.kind === 'enum' || t.kind === 'enum64') value = enumValue(t, v, what, n);
    else if (t.bool) {
      if (v !== true && v !== false && v !== 0 && v !== 1) throw optionError(what, `expected a boolean, got ${show(v)}`);
      value = v ? 1n : 0n;
    } else value = integer(v, n, t.signed === true, what, ` (${n}-bit field)`);
    // Read-modify-write the bytes the bits span, little-endian bit order.
    const start = off + Math.floor(f.bitOffset / 8);
    const shift = BigInt(f.bitOffset % 8);
    const span = Math.ceil((Number(shift) + n) / 8);
    let word = 0n;
    for (let k = span - 1; k >= 0; k--) word = (word << 8n) | BigInt(this.target[start + k]!);
    const mask = ((1n << BigInt(n)) - 1n) << shift;
    word = (word & ~mask) | ((BigInt.asUintN(n, value) << shift) & mask);
    writeInt(this.target, start, span, word);
  }
}

/**
 * Write `value` into `target` at `offset` as BTF type `typeId`. `what` names the value in
 * errors, e.g. "rodata min_duration_ns". Ints take numbers, bigints or integer strings; bool
 * takes booleans; enums take enumerator names or integers; char[N] takes a string of at most
 * N-1 UTF-8 bytes; arrays take JS arrays (shorter ones are zero-padded; byte arrays also take
 * a Buffer); structs take plain objects (missing fields are zero, unknown ones an error); a
 * datasec takes an object of variables and writes only those.
 */
export function encodeValue(btf: Btf, typeId: number, value: unknown, target: Buffer, offset: number, what: string): void {
  const t = btf.resolve(typeId);
  const size = t.kind === 'datasec' ? t.size! : btf.sizeof(typeId);
  if (!Buffer.isBuffer(target) || !Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw btfError(`${what}: a ${size}-byte ${btf.describe(typeId)} does not fit at offset ${offset} of a ${Buffer.isBuffer(target) ? target.length : 0}-byte buffer`);
  }
  try {
    new Encoder(btf, target).encode(typeId, value, offset, what);
  } catch (e) {
    if (e instanceof EunomiaError) throw e;
    throw btfError(`${what}: cannot encode: ${(e as Error).message}`);
  }
}

/** encodeValue into a new zeroed buffer of the type's size. */
export function encodeToBuffer(btf: Btf, typeId: number, value: unknown, what: string): Buffer {
  const buf = Buffer.alloc(btf.sizeof(typeId));
  encodeValue(btf, typeId, value, buf, 0, what);
  return buf;
}

/** Set one variable of a datasec (e.g. '.rodata') inside a copy of that section's bytes. */
export function encodeVariable(btf: Btf, section: string, name: string, value: unknown, data: Buffer, what = `${section.replace(/^\./, '')} ${name}`): void {
  const sec = btf.datasec(section);
  const v = sec?.vars.find((x) => x.name === name);
  if (!v) {
    const known = sec ? ` (it has: ${list(sec.vars.map((x) => x.name))})` : '';
    throw optionError(what, `no variable '${name}' in section ${section}${known}`);
  }
  encodeValue(btf, v.typeId, value, data, v.offset, what);
}
