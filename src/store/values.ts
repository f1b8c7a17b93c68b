/**
 * A stored event's values handed to the writer as they are, and its JSON text made there: on
 * the main thread, `JSON.stringify` of a process exec event (42 fields) took ~2.6 µs even 32 at
 * a time, ~5 % of a core at the store's expected rates on its own (docs/store.md). Here each
 * shape of `data` (its list of keys) gets a reader, generated once, that copies the values:
 * numbers into a Float64Array, strings into an array (both moved or cloned flat by
 * postMessage), nested values as their JSON text (a container's is cached on it: JSON_TEXT).
 * The writer writes `{"tracker":…,"instance":…,"time":…,"data":{…}}` from them, the text
 * JSON.stringify would have made (test/store/values.test.ts checks it on random events).
 *
 * An event of any other form (more top-level keys, `data` not a plain object, or past
 * MAX_SHAPES shapes) goes as its JSON text (recordJson), as alerts do.
 */
import { JSON_TEXT } from '../exporters/json.js';
import { recordJson } from './record.js';

/** What a value is, per value of a shape row (`tags`). */
export const TAG = { num: 0, str: 1, true: 2, false: 3, null: 4, omit: 5, json: 6, empty: 7 } as const;

/** Distinct shapes at most; events of further shapes go as JSON text. */
export const MAX_SHAPES = 1024;
/** Shapes checked before the map: a tracker's event types alternate (exec, exit, …). */
const RECENT = 4;

/** A chunk's values, in row order (src/store/chunk.ts carries them). */
export interface ValuesData {
  nums: Float64Array;
  tags: Uint8Array;
  texts: string[];
  /** Shapes first used in this chunk: [id, keys of `data`]. */
  shapes: [number, string[]][];
}

type Reader = (data: Record<string, unknown>, into: ValueBuffer) => void;

interface Shape {
  id: number;
  keys: string[];
  read: Reader;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A reader for one shape: a named load per key (each the same property of objects made by the
 * same code, so the loads stay monomorphic), its value's tag and value stored.
 */
function compileReader(keys: string[]): Reader {
  const body = keys
    .map((k) => `v = d[${JSON.stringify(k)}]; if (typeof v === 'number') { nums[ni++] = v; tags[ti++] = 0; } else if (typeof v === 'string') { if (v.length === 0) tags[ti++] = 7; else { texts.push(v); tags[ti++] = 1; } } else ti = w.other(v, ti);`)
    .join('\n');
  // Generated from the keys only, each written as a JSON string literal.
  return new Function('d', 'w', `'use strict';\nconst nums = w.nums, tags = w.tags, texts = w.texts;\nlet ni = w.ni, ti = w.ti, v;\n${body}\nw.ni = ni;\nw.ti = ti;`) as Reader;
}

/** The shapes a store has seen (main thread), each with its reader. */
export class Shapes {
  private readonly byKeys = new Map<string, Shape>();
  private readonly recent: Shape[] = [];

  /** `data`'s shape; a new one is added to `fresh`. Undefined past MAX_SHAPES. */
  of(data: object, fresh: [number, string[]][]): Shape | undefined {
    const keys = Object.keys(data);
    for (const s of this.recent) if (sameKeys(keys, s.keys)) return s;
    const name = JSON.stringify(keys);
    let s = this.byKeys.get(name);
    if (!s) {
      if (this.byKeys.size >= MAX_SHAPES) return undefined;
      s = { id: this.byKeys.size, keys, read: compileReader(keys) };
      this.byKeys.set(name, s);
      fresh.push([s.id, keys]);
    }
    this.recent.unshift(s);
    if (this.recent.length > RECENT) this.recent.pop();
    return s;
  }
}

const EVENT_KEYS = ['tracker', 'instance', 'time', 'data'];

/** An event JSON.stringify would write as {tracker, instance, time, data} with a plain `data`. */
export function isPlainEvent(ev: { tracker?: unknown; instance?: unknown; time?: unknown; data?: unknown }): boolean {
  const d = ev.data;
  return typeof d === 'object' && d !== null && Object.getPrototypeOf(d) === Object.prototype && typeof ev.tracker === 'string'
    && typeof ev.instance === 'number' && typeof ev.time === 'number' && sameKeys(Object.keys(ev), EVENT_KEYS);
}

/** One chunk's values (main thread). */
export class ValueBuffer {
  nums: Float64Array;
  tags: Uint8Array;
  texts: string[] = [];
  ni = 0;
  ti = 0;
  readonly shapes: [number, string[]][] = [];

  constructor(values: number) {
    this.nums = new Float64Array(values);
    this.tags = new Uint8Array(values);
  }

  /** Room for `n` more values. */
  reserve(n: number): void {
    if (this.ni + n > this.nums.length) {
      const nums = new Float64Array(Math.max(this.nums.length * 2, this.ni + n));
      nums.set(this.nums.subarray(0, this.ni));
      this.nums = nums;
    }
    if (this.ti + n > this.tags.length) {
      const tags = new Uint8Array(Math.max(this.tags.length * 2, this.ti + n));
      tags.set(this.tags.subarray(0, this.ti));
      this.tags = tags;
    }
  }

  /** A value neither number nor string (the readers call it): its tag at `ti`, the next index returned. */
  other(v: unknown, ti: number): number {
    if (v === true) this.tags[ti] = TAG.true;
    else if (v === false) this.tags[ti] = TAG.false;
    else if (v === null) this.tags[ti] = TAG.null;
    else if (v === undefined || typeof v === 'function' || typeof v === 'symbol') this.tags[ti] = TAG.omit;
    else {
      this.texts.push(jsonOf(v));
      this.tags[ti] = TAG.json;
    }
    return ti + 1;
  }

  data(): ValuesData {
    return { nums: this.nums, tags: this.tags, texts: this.texts, shapes: this.shapes };
  }
}

/** A nested value's JSON: its cached text, else as a record's is written (recordJson). */
function jsonOf(v: unknown): string {
  const pre = typeof v === 'object' && v !== null ? (v as { [JSON_TEXT]?: unknown })[JSON_TEXT] : undefined;
  return typeof pre === 'string' ? pre : recordJson(v);
}

const numText = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** What JSON.stringify escapes in a string (and lone surrogates, which it writes as \u escapes). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify writes it; most need no escape, and are only quoted. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** The writer's side: the shapes learnt from the chunks, and the records written from values. */
export class ValueReader {
  /** Per shape id, its keys, and each as it opens its member: `"key":` first, `,"key":` after another. */
  private readonly opening: { keys: string[]; first: string[]; next: string[] }[] = [];
  private nums: Float64Array = new Float64Array(0);
  private tags: Uint8Array = new Uint8Array(0);
  private texts: string[] = [];
  private ni = 0;
  private ti = 0;
  private xi = 0;

  /** The shapes a chunk brings: learnt when it arrives, whether or not its rows are written. */
  learn(d: Pick<ValuesData, 'shapes'>): void {
    for (const [id, keys] of d.shapes) {
      const first = keys.map((k) => `${JSON.stringify(k)}:`);
      this.opening[id] = { keys, first, next: first.map((k) => `,${k}`) };
    }
  }

  /** The shapes learnt so far: what a writer that takes over must know (src/store/writer-host.ts). */
  known(): [number, string[]][] {
    const out: [number, string[]][] = [];
    this.opening.forEach((o, id) => out.push([id, o.keys]));
    return out;
  }

  /** Starts on a chunk's values. */
  begin(d: ValuesData): void {
    this.nums = d.nums;
    this.tags = d.tags;
    this.texts = d.texts;
    this.ni = this.ti = this.xi = 0;
  }

  /** The next event row's record, as JSON.stringify writes the event. */
  record(shape: number, tracker: string, instance: number): string {
    const open = this.opening[shape];
    if (!open) throw new Error(`store: a row of unknown shape ${shape}`);
    let s = `{"tracker":${JSON.stringify(tracker)},"instance":${numText(instance)},"time":${numText(this.nums[this.ni++]!)},"data":{`;
    let keys = open.first;
    for (let i = 0; i < keys.length; i++) {
      const tag = this.tags[this.ti++];
      let v: string;
      if (tag === TAG.num) v = numText(this.nums[this.ni++]!);
      else if (tag === TAG.str) v = quote(this.texts[this.xi++]!);
      else if (tag === TAG.empty) v = '""';
      else if (tag === TAG.json) v = this.texts[this.xi++]!;
      else if (tag === TAG.true) v = 'true';
      else if (tag === TAG.false) v = 'false';
      else if (tag === TAG.null) v = 'null';
      else continue; // omitted, as JSON.stringify omits undefined
      s += keys[i]!;
      s += v;
      keys = open.next;
    }
    return `${s}}}`;
  }
}
