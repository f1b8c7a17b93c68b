/**
 * A least-recently-used map bounded by entries and by bytes (each value says its size), that
 * counts what it evicts. Symbol tables of large libraries are megabytes: the profiler must not
 * grow without bound as processes come and go, and a drop must be visible in stats. A hit only
 * stamps the entry (every frame is a hit: it must cost nothing); eviction, which is rare, scans
 * for the oldest stamp.
 */
interface Entry<V> {
  value: V;
  bytes: number;
  used: number;
}

export class Lru<K, V> {
  private readonly map = new Map<K, Entry<V>>();
  private total = 0;
  private clock = 0;
  evictions = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    e.used = ++this.clock;
    return e.value;
  }

  /** The value, leaving its age alone. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /**
   * Adds (or replaces) `key`, then evicts the least recently used until within both bounds.
   * The newest entry always stays, even alone over the byte budget: dropping it would only
   * make the next lookup parse the same file again.
   */
  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    this.map.set(key, { value, bytes, used: ++this.clock });
    this.total += bytes;
    while (this.map.size > 1 && (this.total > this.maxBytes || this.map.size > this.maxEntries)) {
      let oldest: K | undefined;
      let stamp = Infinity;
      for (const [k, e] of this.map) {
        if (e.used < stamp) {
          stamp = e.used;
          oldest = k;
        }
      }
      this.delete(oldest as K);
      this.evictions++;
    }
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.total -= e.bytes;
    return true;
  }

  /** Keys, least recently used first. */
  keys(): K[] {
    return [...this.map].sort((a, b) => a[1].used - b[1].used).map(([k]) => k);
  }
}
