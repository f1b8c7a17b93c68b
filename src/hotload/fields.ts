/** Reading untrusted JSON fields: every failure is E_PACKAGE naming the field. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';

/** `program package: <field>: <problem>`. */
export function bad(field: string, msg: string, cause?: unknown): EunomiaError {
  return new EunomiaError(ErrorCodes.PACKAGE, `program package: ${field ? `${field}: ` : ''}${msg}`, cause === undefined ? {} : { cause });
}

/** How a JSON value reads in a message: its type, and the value when short. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function object(v: unknown, field: string): Json {
  if (!isObject(v)) throw bad(field, `expected an object, got ${describe(v)}`);
  return v;
}

export function string(v: unknown, field: string): string {
  if (typeof v !== 'string') throw bad(field, `expected a string, got ${describe(v)}`);
  return v;
}

export function size(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(field, `expected a byte count (a non-negative integer), got ${describe(v)}`);
  return v;
}

export function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw bad(field, `expected an array, got ${describe(v)}`);
  return v;
}

/** Names listed as strings (the seed) or as objects with a `name` (eunomia-bpf). */
export function names(v: unknown, field: string): { name: string; field: string; entry: Json | undefined }[] {
  return array(v, field).map((e, i) => {
    const f = `${field}[${i}]`;
    if (typeof e === 'string') return { name: e, field: f, entry: undefined };
    const o = object(e, f);
    return { name: string(o.name, `${f}.name`), field: f, entry: o };
  });
}

/** Refuses keys outside `known` (our own format: a typo must not be silently ignored). */
export function onlyKeys(o: Json, known: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw bad(field ? `${field}.${k}` : k, `unknown key (known: ${known.join(', ')})`);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A program's name: what its events carry as `tracker`. */
export function programName(v: unknown, field: string): string {
  const s = string(v, field);
  if (!NAME.test(s)) throw bad(field, `${JSON.stringify(s.slice(0, 80))} is not a valid name: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`);
  return s;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Strict base64 (Buffer.from would skip bad characters and decode a cut-off string without a
 * word). Line breaks are allowed: the seed's encoder wraps every 72 characters. The size is
 * checked before anything is allocated.
 */
export function base64(v: unknown, field: string, maxBytes: number): Buffer {
  const text = string(v, field).replace(/[\r\n]/g, '');
  if (text.length === 0) throw bad(field, 'is empty: expected the base64 of an eBPF object');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Math.floor(text.length / 4) * 3 - padding;
  if (bytes > maxBytes) throw tooBig(field, bytes, maxBytes);
  if (!BASE64.test(text)) {
    // Either a character outside the alphabet, or padding before the end.
    const m = /[^A-Za-z0-9+/=]/.exec(text);
    const at = m ? m.index : text.indexOf('=');
    throw bad(field, `not base64: ${JSON.stringify(text[at])} at offset ${at}${m ? '' : ' (padding before the end)'}`);
  }
  if (text.length % 4 !== 0) throw bad(field, `truncated base64: ${text.length} characters (without line breaks) is not a multiple of 4 — was the text cut off?`);
  const buf = Buffer.from(text, 'base64');
  if (buf.length > maxBytes) throw tooBig(field, buf.length, maxBytes);
  return buf;
}

export function tooBig(field: string, bytes: number, max: number): EunomiaError {
  return bad(field, `the object is ${bytes >= 10 * 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} bytes`}, more than the limit of ${max} bytes (hot-load maxObjectBytes)`);
}
