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

/** One map an interval report reads, with its decoders. */
interface ReadMap {
  map: BpfMap;
  key: ValueDecoder;
  value: ValueDecoder;
  isArray: boolean;
}

export class IntervalReader {
  /** By name: a tracker may read another map each interval (`swap`). */
  private readonly maps = new Map<string, ReadMap>();
  /** Arrays cannot be cleared atomically: they stay cumulative and reports are differences. */
  private readonly previous = new Map<string, Buffer>();

  constructor(
    private readonly obj: BpfObject,
    private readonly spec: IntervalSpec,
  ) {
    this.mapFor(spec.map);
  }

  private mapFor(name: string): ReadMap {
    const known = this.maps.get(name);
    if (known) return known;
    const { obj } = this;
    const types = obj.btf.mapTypes(name);
    if (types?.keyTypeId === undefined || types.valueTypeId === undefined) {
      throw new EunomiaError(ErrorCodes.BTF, `${obj.name}: map ${name} has no key/value types in BTF — declare it with __type(key, …) and __type(value, …)`);
    }
    const map = obj.map(name);
    const m = { map, key: compileValueDecoder(obj.btf, types.keyTypeId), value: compileValueDecoder(obj.btf, types.valueTypeId), isArray: ARRAY_MAP_TYPES.has(map.type) };
    this.maps.set(name, m);
    return m;
  }

  /**
   * One interval's entries: hash maps are read and deleted in one batch operation; arrays
   * (no delete) are read whole and differenced against the previous read, so no increment
   * made between the read and a reset can be lost. `keep`: cumulative values.
   */
  read(name = this.spec.map): MapEntry[] {
    const { map, key: keyDecoder, value: valueDecoder, isArray } = this.mapFor(name);
    const clear = !this.spec.keep;
    const raw = map.entries({ delete: clear && !isArray });
    const out: MapEntry[] = [];
    const slot = (map.valueSize + 7) & ~7;
    const decode = (buf: Buffer): unknown => {
      let v = valueDecoder.decode(buf, 0);
      for (let cpu = 1; cpu < map.perCpu; cpu++) v = sumInto(v, valueDecoder.decode(buf, cpu * slot));
      return v;
    };
    for (const { key, value } of raw) {
      let v: unknown;
      if (isArray && clear) {
        const id = `${name}:${key.toString('hex')}`;
        const prev = this.previous.get(id);
        this.previous.set(id, Buffer.from(value));
        if (prev?.equals(value) || (!prev && isZero(value))) continue; // nothing new in this interval
        v = prev ? diff(decode(value), decode(prev)) : decode(value);
      } else {
        if (isArray && isZero(value)) continue;
        v = decode(value);
      }
      out.push({ key: keyDecoder.decode(key, 0), value: v });
    }
    return out;
  }

  /** Rows for one report: `spec.rows` (or key and value fields merged), sorted, top N. */
  report(options: OptionValues): Record<string, unknown>[] {
    const current = this.spec.swap ? this.spec.swap({ map: (n) => this.obj.map(n) }) : this.spec.map;
    const entries = this.read(current);
    let rows = this.spec.rows
      ? this.spec.rows(entries, options, { map: (n) => this.obj.map(n), current })
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
