/**
 * Reads an in-kernel aggregation map every interval: entries decoded from the map's BTF
 * key/value types, per-CPU values summed, turned into rows, sorted, cut to the top N; the
 * map is cleared so each report covers one interval.
 */
import { compileValueDecoder, type ValueDecoder } from '../core/btf/index.js';
import type { BpfMap, BpfObject } from '../core/bpf-object.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { IntervalSpec, MapEntry, OptionValues } from './types.js';

const ARRAY_MAP_TYPES = new Set([2, 6]); // array, per-CPU array: entries cannot be deleted

/** Adds b into a: numbers and bigints summed, arrays and objects element by element. */
export function sumInto(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    const s = BigInt(a) + BigInt(b);
    return s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => sumInto(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = k in out ? sumInto(out[k], v) : v;
    return out;
  }
  // Strings (a comm, a path): the first CPU that has one.
  return a === '' || a === undefined ? b : a;
}

/** a - b, field by field (the inverse of sumInto for counters). */
export function diff(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    const d = BigInt(a) - BigInt(b);
    return d <= BigInt(Number.MAX_SAFE_INTEGER) && d >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(d) : d;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => diff(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) if (k in out) out[k] = diff(out[k], v);
    return out;
  }
  return a;
}

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

export class IntervalReader {
  private readonly map: BpfMap;
  private readonly key: ValueDecoder;
  private readonly value: ValueDecoder;
  private readonly isArray: boolean;
  /** Arrays cannot be cleared atomically: they stay cumulative and reports are differences. */
  private readonly previous = new Map<string, Buffer>();

  constructor(
    obj: BpfObject,
    private readonly spec: IntervalSpec,
  ) {
    const types = obj.btf.mapTypes(spec.map);
    if (types?.keyTypeId === undefined || types.valueTypeId === undefined) {
      throw new EunomiaError(ErrorCodes.BTF, `${obj.name}: map ${spec.map} has no key/value types in BTF — declare it with __type(key, …) and __type(value, …)`);
    }
    this.map = obj.map(spec.map);
    this.key = compileValueDecoder(obj.btf, types.keyTypeId);
    this.value = compileValueDecoder(obj.btf, types.valueTypeId);
    this.isArray = ARRAY_MAP_TYPES.has(this.map.type);
  }

  /**
   * One interval's entries: hash maps are read and deleted in one batch operation; arrays
   * (no delete) are read whole and differenced against the previous read, so no increment
   * made between the read and a reset can be lost. `keep`: cumulative values.
   */
  read(): MapEntry[] {
    const clear = !this.spec.keep;
    const raw = this.map.entries({ delete: clear && !this.isArray });
    const out: MapEntry[] = [];
    const slot = (this.map.valueSize + 7) & ~7;
    const decode = (buf: Buffer): unknown => {
      let v = this.value.decode(buf, 0);
      for (let cpu = 1; cpu < this.map.perCpu; cpu++) v = sumInto(v, this.value.decode(buf, cpu * slot));
      return v;
    };
    for (const { key, value } of raw) {
      let v: unknown;
      if (this.isArray && clear) {
        const id = key.toString('hex');
        const prev = this.previous.get(id);
        this.previous.set(id, Buffer.from(value));
        if (prev?.equals(value) || (!prev && isZero(value))) continue; // nothing new in this interval
        v = prev ? diff(decode(value), decode(prev)) : decode(value);
      } else {
        if (this.isArray && isZero(value)) continue;
        v = decode(value);
      }
      out.push({ key: this.key.decode(key, 0), value: v });
    }
    return out;
  }

  /** Rows for one report: `spec.rows` (or key and value fields merged), sorted, top N. */
  report(options: OptionValues): Record<string, unknown>[] {
    const entries = this.read();
    let rows = this.spec.rows
      ? this.spec.rows(entries, options)
      : entries.map(({ key, value }) => ({
          ...(key && typeof key === 'object' ? (key as Record<string, unknown>) : { key }),
          ...(value && typeof value === 'object' ? (value as Record<string, unknown>) : { value }),
        }));
    const by = this.spec.sortBy;
    if (by) rows = rows.sort((a, b) => Number(b[by] ?? 0) - Number(a[by] ?? 0));
    const top = Number(options.top ?? this.spec.top);
    return top > 0 ? rows.slice(0, top) : rows;
  }
}
