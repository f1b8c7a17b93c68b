/**
 * JIT code names from a perf map (`/tmp/perf-PID.map`: `START SIZE name` lines, hex), the
 * convention V8 (`node --perf-basic-prof-only-functions`), the JVM's agents, .NET and LuaJIT
 * builds with perf support write. The file only grows while the process runs, so it is read
 * incrementally from where the last read stopped; an entry overlapping a later one is stale
 * (the JIT reused that memory) and is dropped, so what is kept never overlaps and is searched by
 * binary search. Garbage lines are counted and skipped, never thrown.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { lastAtOrBelow } from './symbol-table.js';

/** At most this much of a grown file is read per refresh; the rest waits for the next one. */
const MAX_READ = 16 << 20;
/** A longer line is not a perf map line. */
const MAX_LINE = 1 << 16;
const LINE = /^(?:0x)?([0-9a-fA-F]{1,13}) (?:0x)?([0-9a-fA-F]{1,13}) (.+)$/;

export interface PerfMapHit {
  name: string;
  start: number;
}

export type RefreshResult = 'missing' | 'read';

export class PerfMap {
  /** Kept entries, sorted by start, not overlapping (after compact). */
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  private names: string[] = [];
  /** Entries read since the last compaction, in file order. */
  private pending: { start: number; end: number; name: string }[] = [];
  private offset = 0;
  private ino = -1;
  /** Lines that were not `START SIZE name`. */
  badLines = 0;
  /** Entries not kept because the map was full. */
  dropped = 0;

  /**
   * `path` is where it is read (through /proc/PID/root); `label` is how frames name it, the
   * path the process wrote (`/tmp/perf-<nspid>.map`).
   */
  constructor(
    readonly path: string,
    private readonly maxEntries: number,
    readonly label: string = path,
  ) {}

  get size(): number {
    return this.names.length + this.pending.length;
  }

  /** Reads what was appended since the last call; a replaced or truncated file starts over. */
  refresh(): RefreshResult {
    let fd: number;
    try {
      // The file is the process's (a container's): not a symlink (which would resolve against our
      // root, not the container's), never blocking (a FIFO), and only a regular file is read.
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      return 'missing';
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return 'missing';
      if (st.ino !== this.ino || st.size < this.offset) {
        this.reset();
        this.ino = st.ino;
      }
      const len = Math.min(st.size - this.offset, MAX_READ);
      if (len <= 0) return 'read';
      const buf = Buffer.allocUnsafe(len);
      const n = readSync(fd, buf, 0, len, this.offset);
      if (n <= 0) return 'read';
      // Only whole lines: a line still being written is read again, whole, next time.
      const lastNl = buf.subarray(0, n).lastIndexOf(10);
      if (lastNl < 0) {
        if (n >= MAX_LINE) {
          this.offset += n; // no newline in sight: not a perf map
          this.badLines++;
        }
        return 'read';
      }
      this.offset += lastNl + 1;
      this.parse(buf.toString('utf8', 0, lastNl));
      return 'read';
    } catch {
      return 'missing'; // an I/O error: what was read so far stays
    } finally {
      closeSync(fd);
    }
  }

  private reset(): void {
    this.starts = new Float64Array(0);
    this.ends = new Float64Array(0);
    this.names = [];
    this.pending = [];
    this.offset = 0;
  }

  private parse(text: string): void {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      const m = LINE.exec(line);
      if (!m) {
        this.badLines++;
        continue;
      }
      const start = parseInt(m[1]!, 16);
      const size = parseInt(m[2]!, 16);
      if (size === 0) continue; // covers nothing
      this.pending.push({ start, end: start + size, name: m[3]! });
    }
    if (this.pending.length > 0) this.compact();
  }

  /**
   * Merges pending entries into the kept ones, dropping every entry overlapped by a later one
   * (later lines win, as in perf). O(n log n): entries sorted by start; visiting them from the
   * newest, a Fenwick tree of the newer ones' ends (prefix max) finds a newer overlap on the
   * left, a Fenwick count finds one starting inside on the right.
   */
  private compact(): void {
    const old = this.names.length;
    const n = old + this.pending.length;
    const start = new Float64Array(n);
    const end = new Float64Array(n);
    const name: string[] = new Array<string>(n);
    // Kept entries do not overlap, so among them file order does not matter: they are older than any pending one.
    for (let i = 0; i < old; i++) {
      start[i] = this.starts[i]!;
      end[i] = this.ends[i]!;
      name[i] = this.names[i]!;
    }
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending[i]!;
      start[old + i] = e.start;
      end[old + i] = e.end;
      name[old + i] = e.name;
    }
    this.pending = [];
    const order = new Uint32Array(n); // position -> entry (entry index = file order)
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => start[a]! - start[b]! || a - b);
    const pos = new Uint32Array(n);
    for (let p = 0; p < n; p++) pos[order[p]!] = p;
    const sortedStart = new Float64Array(n);
    for (let p = 0; p < n; p++) sortedStart[p] = start[order[p]!]!;
    const maxEnd = new Float64Array(n + 1); // Fenwick: prefix max of ends
    const count = new Uint32Array(n + 1); // Fenwick: prefix count
    const keep = new Uint8Array(n);
    for (let i = n - 1; i >= 0; i--) {
      const p = pos[i]!;
      // A newer entry before this one (in start order) reaching past our start?
      let left = 0;
      for (let k = p; k > 0; k -= k & -k) left = Math.max(left, maxEnd[k]!);
      // A newer entry starting inside us? Positions (p, r) where r = first start >= our end.
      let lo = p + 1;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sortedStart[mid]! < end[i]!) lo = mid + 1;
        else hi = mid;
      }
      let inside = 0;
      for (let k = lo; k > 0; k -= k & -k) inside += count[k]!;
      for (let k = p + 1; k > 0; k -= k & -k) inside -= count[k]!;
      if (left <= start[i]! && inside === 0) keep[i] = 1;
      for (let k = p + 1; k <= n; k += k & -k) {
        if (maxEnd[k]! < end[i]!) maxEnd[k] = end[i]!;
        count[k]!++;
      }
    }
    let kept = 0;
    for (let i = 0; i < n; i++) kept += keep[i]!;
    // Full: the oldest entries go (the newest is the code most likely still running).
    let cutoff = 0;
    if (kept > this.maxEntries) {
      this.dropped += kept - this.maxEntries;
      for (let seen = 0; seen < kept - this.maxEntries; cutoff++) seen += keep[cutoff]!;
    }
    const starts = new Float64Array(Math.min(kept, this.maxEntries));
    const ends = new Float64Array(starts.length);
    const names: string[] = [];
    for (let p = 0; p < n; p++) {
      const i = order[p]!;
      if (!keep[i] || i < cutoff) continue;
      starts[names.length] = start[i]!;
      ends[names.length] = end[i]!;
      names.push(name[i]!);
    }
    this.starts = starts;
    this.ends = ends;
    this.names = names;
  }

  lookup(addr: number): PerfMapHit | undefined {
    const s = this.starts;
    const i = lastAtOrBelow(s, addr);
    if (i >= 0 && addr < this.ends[i]!) return { name: this.names[i]!, start: s[i]! };
    return undefined;
  }
}
