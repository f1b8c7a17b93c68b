/**
 * Reads an in-kernel aggregation map every interval: entries decoded from the map's BTF
 * key/value types, per-CPU values summed, turned into rows, sorted, cut to the top N; the
 * map is cleared so each report covers one interval.
 */
import { compileValueDecoder, type ValueDecoder } from './btf/index.js';
import type { BpfMap, BpfObject } from './bpf-object.js';
import { EunomiaError, ErrorCodes } from './errors.js';
import type { IntervalSpec, MapEntry, OptionValues } from '../trackers/types.js';

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

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

export class IntervalReader {
  private readonly map: BpfMap;
  private readonly key: ValueDecoder;
  private readonly value: ValueDecoder;
  private readonly isArray: boolean;

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

  /** One interval's entries, cleared from the kernel unless the spec keeps them. */
  read(): MapEntry[] {
    const clear = !this.spec.keep;
    const raw = this.map.entries({ delete: clear && !this.isArray });
    const out: MapEntry[] = [];
    const slot = (this.map.valueSize + 7) & ~7;
    for (const { key, value } of raw) {
      if (this.isArray && isZero(value)) continue;
      let v: unknown;
      if (this.map.perCpu) {
        v = this.value.decode(value, 0);
        for (let cpu = 1; cpu < this.map.perCpu; cpu++) v = sumInto(v, this.value.decode(value, cpu * slot));
      } else {
        v = this.value.decode(value, 0);
      }
      out.push({ key: this.key.decode(key, 0), value: v });
      if (this.isArray && clear) this.map.update(key, Buffer.alloc(value.length));
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
