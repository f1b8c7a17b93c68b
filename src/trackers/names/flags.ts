/** Flag words as names: the kernel sends the raw value (kept as `<field>_raw` by convention). */
export type FlagTable = readonly (readonly [number, string])[];

// Events repeat the same few flag words; naming one costs ~1 µs, a cache hit ~20 ns.
const caches = new WeakMap<FlagTable, Map<string, Map<number, string>>>();
const CACHE_MAX = 1024;

/** "O_WRONLY|O_CREAT|O_TRUNC"-style text; bits with no name are kept as hex. */
export function flagNames(value: number, table: FlagTable, zero = '0'): string {
  let byZero = caches.get(table);
  if (!byZero) caches.set(table, (byZero = new Map()));
  let cache = byZero.get(zero);
  if (!cache) byZero.set(zero, (cache = new Map()));
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of table) {
    if (bit !== 0 && (rest & bit) === bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) names.push('0x' + rest.toString(16));
  const text = names.length ? names.join('|') : zero;
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(value, text);
  return text;
}
