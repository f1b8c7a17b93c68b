/**
 * One ELF file's functions, sorted for binary search and kept small: typed arrays of starts
 * and ends, and the names in one buffer (the file's string table itself when it is mostly
 * function names, else a packed copy), decoded only when a frame needs one. The node binary's
 * table (78k functions, 7 MB of C++ names) is 9 MB in four objects, not 78k objects; the cache
 * counts it in `bytes`.
 */
import type { LoadSegment } from './elf-file.js';

const STB_LOCAL = 0;
const STB_WEAK = 2;
/** How far back a lookup looks for a symbol enclosing others (nested sized symbols are rare). */
const MAX_ENCLOSING_SCAN = 16;

/** The index of the last of the sorted `starts` at or below `x`, -1 if none (a symbol or JIT entry that may hold `x`). */
export function lastAtOrBelow(starts: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let i = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= x) {
      i = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return i;
}

export interface SymbolHit {
  name: string;
  /** The symbol's start (an ELF virtual address). */
  start: number;
}

export class SymbolTable {
  private constructor(
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    /** Name i is the NUL-terminated string at names[nameOff[i]]. */
    private readonly nameOff: Uint32Array,
    private readonly names: Buffer,
  ) {}

  static empty(): SymbolTable {
    return new SymbolTable(new Float64Array(0), new Float64Array(0), new Uint32Array(0), Buffer.alloc(0));
  }

  static builder(capacity: number, loads: readonly LoadSegment[]): SymbolTableBuilder {
    return new SymbolTableBuilder(capacity, loads, (s, e, o, n) => new SymbolTable(s, e, o, n));
  }

  get count(): number {
    return this.starts.length;
  }

  /** Memory held, for the cache's byte budget. */
  get bytes(): number {
    return this.starts.byteLength + this.ends.byteLength + this.nameOff.byteLength + this.names.length + 128;
  }

  /** The function covering `vaddr`, if one does. */
  lookup(vaddr: number): SymbolHit | undefined {
    const s = this.starts;
    let i = lastAtOrBelow(s, vaddr);
    for (let k = 0; i >= 0 && k < MAX_ENCLOSING_SCAN; k++, i--) {
      if (vaddr < this.ends[i]!) {
        const off = this.nameOff[i]!;
        return { name: this.names.toString('utf8', off, this.names.indexOf(0, off)), start: s[i]! };
      }
    }
    return undefined;
  }
}

type Make = (starts: Float64Array, ends: Float64Array, nameOff: Uint32Array, names: Buffer) => SymbolTable;

/** Collects symbols straight from a string table (no string made per symbol), then sorts and packs them. */
export class SymbolTableBuilder {
  private n = 0;
  private readonly start: Float64Array;
  private readonly size: Float64Array;
  private readonly bind: Uint8Array;
  private readonly nameStart: Uint32Array;
  private readonly nameEnd: Uint32Array;
  private strtab: Buffer = Buffer.alloc(0);

  constructor(
    capacity: number,
    private readonly loads: readonly LoadSegment[],
    private readonly make: Make,
  ) {
    this.start = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.bind = new Uint8Array(capacity);
    this.nameStart = new Uint32Array(capacity);
    this.nameEnd = new Uint32Array(capacity);
  }

  /** A function at `start` of `size` bytes (0: unknown) named strtab[nameStart, nameEnd). One strtab per builder. */
  add(start: number, size: number, bind: number, strtab: Buffer, nameStart: number, nameEnd: number): void {
    if (this.n >= this.start.length) return;
    this.strtab = strtab;
    const i = this.n++;
    this.start[i] = start;
    this.size[i] = size;
    this.bind[i] = bind;
    this.nameStart[i] = nameStart;
    this.nameEnd[i] = nameEnd;
  }

  private underscores(i: number): number {
    let k = 0;
    while (this.nameStart[i]! + k < this.nameEnd[i]! && this.strtab[this.nameStart[i]! + k] === 0x5f) k++;
    return k;
  }

  /** Of two symbols at the same address, which names it (perf's rules): negative when `a` does. */
  private prefer(a: number, b: number): number {
    const sa = this.size[a]! > 0 ? 0 : 1;
    const sb = this.size[b]! > 0 ? 0 : 1;
    if (sa !== sb) return sa - sb;
    const rank = (x: number): number => (this.bind[x] === STB_WEAK ? 1 : this.bind[x] === STB_LOCAL ? 2 : 0);
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    const ua = this.underscores(a);
    const ub = this.underscores(b);
    if (ua !== ub) return ua - ub;
    return this.nameEnd[b]! - this.nameStart[b]! - (this.nameEnd[a]! - this.nameStart[a]!);
  }

  /** The end of the executable segment holding `vaddr` (bounds a symbol without a size), or `vaddr + 1`. */
  private segmentEnd(vaddr: number): number {
    for (const l of this.loads) if (vaddr >= l.vaddr && vaddr < l.vaddr + l.memsz) return l.vaddr + l.memsz;
    return vaddr + 1;
  }

  /** Indices sorted by start (ties in any order). */
  private sortedOrder(): Uint32Array {
    const n = this.n;
    const start = this.start;
    let max = 0;
    let sorted = true;
    for (let i = 0; i < n; i++) {
      if (start[i]! > max) max = start[i]!;
      else if (start[i]! < max) sorted = false;
    }
    const order = new Uint32Array(n);
    if (sorted) {
      for (let i = 0; i < n; i++) order[i] = i;
    } else if ((max + 1) * n < Number.MAX_SAFE_INTEGER) {
      // start * n + index is exact: one native numeric sort instead of a comparator call per comparison.
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = start[i]! * n + i;
      keys.sort();
      for (let k = 0; k < n; k++) order[k] = keys[k]! % n;
    } else {
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => start[a]! - start[b]!);
    }
    return order;
  }

  build(): SymbolTable {
    const n = this.n;
    const start = this.start;
    const order = this.sortedOrder();
    // One symbol per address: the preferred one of each run of equal starts.
    const keep = new Uint32Array(n);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      if (m > 0 && start[keep[m - 1]!] === start[i]) {
        if (this.prefer(i, keep[m - 1]!) < 0) keep[m - 1] = i;
        continue;
      }
      keep[m++] = i;
    }
    const starts = new Float64Array(m);
    const ends = new Float64Array(m);
    const nameOff = new Uint32Array(m);
    let total = 0;
    for (let k = 0; k < m; k++) total += this.nameEnd[keep[k]!]! - this.nameStart[keep[k]!]! + 1;
    // Mostly function names (a C++ binary's .symtab): keep the string table as it is, no copy.
    // Otherwise pack the names kept, each still NUL-terminated.
    const pack = total < this.strtab.length * 0.6;
    const names = pack ? Buffer.allocUnsafeSlow(total) : this.strtab;
    const from = new Uint8Array(this.strtab.buffer, this.strtab.byteOffset, this.strtab.length);
    let at = 0;
    for (let k = 0; k < m; k++) {
      const i = keep[k]!;
      starts[k] = start[i]!;
      if (this.size[i]! > 0) ends[k] = start[i]! + this.size[i]!;
      else {
        // Assembly symbols often have no size: up to the next function, within the segment.
        const bound = this.segmentEnd(start[i]!);
        ends[k] = k + 1 < m ? Math.min(start[keep[k + 1]!]!, bound) : bound;
      }
      if (!pack) {
        nameOff[k] = this.nameStart[i]!;
        continue;
      }
      nameOff[k] = at;
      names.set(from.subarray(this.nameStart[i], this.nameEnd[i]! + 1), at); // with its NUL; Buffer#copy costs more per call
      at += this.nameEnd[i]! - this.nameStart[i]! + 1;
    }
    return this.make(starts, ends, nameOff, names);
  }
}
