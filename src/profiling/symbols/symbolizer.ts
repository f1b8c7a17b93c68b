/**
 * Stack addresses from the profile tracker to names: kernel ones from kallsyms, user ones through
 * the process's mappings to ELF symbols (read through /proc/PID/root, so a container's files
 * are found), or to a perf map for JIT code. Each frame that stays unnamed says why. Parsed
 * symbol tables are shared across processes by build id in a bounded LRU; what is kept per
 * process (mappings, perf map) is bounded by a pid LRU and dropped when the process exits.
 * Synchronous: a call reads /proc and at most a few files, and never a large file twice while
 * it is cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { EunomiaError, ErrorCodes, isEunomiaError } from '../../core/errors.js';
import { ElfFile, fileOffsetToVaddr, type LoadSegment } from './elf-file.js';
import { debugFileFor, hintFor, perfMapPath } from './hints.js';
import { KernelSymbols } from './kallsyms.js';
import { Lru } from './lru.js';
import { PerfMap } from './perf-map.js';
import { findMapping, isAnonymous, parseMaps, readMaps, readNsPid, readStartTime, type Mapping } from './proc.js';
import { SymbolTable } from './symbol-table.js';
import { UNRESOLVED_REASONS, type Frame, type SymbolizerOptions, type SymbolizerStats, type UnresolvedReason } from './types.js';

/** A file a process maps, once opened: where its table is cached and how to open it again. */
interface FileRef {
  key: string;
  loads: LoadSegment[];
  openPath: string;
  ino: number;
  /** The ELF image's place in `openPath` (the vDSO in /proc/self/mem). */
  region?: { base: number; size: number };
  /** Whose root to look for a separate debug file in. */
  pid?: number;
}

type FileMemo = FileRef | { failed: UnresolvedReason };

interface PidState {
  startTime: string | undefined;
  maps: Mapping[];
  mapsReadAt: number;
  /** By `inode:path`: every mapping of a file shares one entry. */
  files: Map<string, FileMemo>;
  perf: PerfMap | undefined;
  /** The process exited (or became a zombie) after we first saw it: what is cached still names frames. */
  gone: boolean;
}

/** What one call may do at most once, whatever the number of addresses. */
interface CallBudget {
  mapsReread: boolean;
  perfRefreshed: boolean;
}

const VDSO = '[vdso]';
/** User addresses are below 2^53 (x86-64 and arm64 use at most 57 bits, user space the lower half). */
const MAX_USER = BigInt(Number.MAX_SAFE_INTEGER);

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new EunomiaError(ErrorCodes.OPTION, `symbolizer: ${name} must be a number ≥ 0, got ${String(v)}`);
  }
  return v;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export class Symbolizer {
  private readonly procRoot: string;
  private readonly debugDirs: string[];
  private readonly maxPids: number;
  private readonly maxPerfMapEntries: number;
  private readonly mapsRereadMs: number;
  private readonly pruneEveryMs: number;
  private readonly now: () => number;
  private readonly kernelSyms: KernelSymbols;
  private readonly tables: Lru<string, SymbolTable>;
  private readonly pids = new Map<number, PidState>();
  private lastPrune: number;
  private vdso: FileMemo | undefined;
  private counts = {
    parsedFiles: 0,
    pidEvictions: 0,
    resolved: 0,
    perfMapBadLines: 0,
    perfMapDropped: 0,
    unresolved: Object.fromEntries(UNRESOLVED_REASONS.map((r) => [r, 0])) as Record<UnresolvedReason, number>,
  };

  constructor(opts: SymbolizerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.debugDirs = opts.debugDirs ?? ['/usr/lib/debug'];
    this.maxPids = Math.max(1, positive('maxPids', opts.maxPids, 1024));
    this.maxPerfMapEntries = Math.max(1, positive('maxPerfMapEntries', opts.maxPerfMapEntries, 200_000));
    this.mapsRereadMs = positive('mapsRereadMs', opts.mapsRereadMs, 100);
    this.pruneEveryMs = positive('pruneEveryMs', opts.pruneEveryMs, 10_000);
    this.now = opts.now ?? Date.now;
    this.kernelSyms = new KernelSymbols(opts.kallsymsPath ?? '/proc/kallsyms');
    this.tables = new Lru(positive('maxCachedBytes', opts.maxCachedBytes, 64 << 20), Math.max(1, positive('maxCachedFiles', opts.maxCachedFiles, 512)));
    this.lastPrune = this.now();
  }

  /** Kernel addresses (kallsyms is read on the first call). */
  kernel(addrs: readonly bigint[]): Frame[] {
    checkAddrs(addrs);
    return this.count(this.kernelSyms.resolve(addrs));
  }

  /** Why kernel frames cannot be named at all (kallsyms unreadable or hidden), or undefined. */
  kernelProblem(): string | undefined {
    return this.kernelSyms.problem();
  }

  /** Re-read kallsyms on the next kernel() call (modules or BPF programs loaded since). */
  reloadKernel(): void {
    this.kernelSyms.reload();
  }

  /** User-space addresses of process `pid` (its tgid, or any of its threads' ids). */
  user(pid: number, addrs: readonly bigint[]): Frame[] {
    if (!Number.isSafeInteger(pid) || pid < 0) throw new EunomiaError(ErrorCodes.OPTION, `symbolizer: pid must be an integer ≥ 0, got ${String(pid)}`);
    checkAddrs(addrs);
    if (addrs.length === 0) return [];
    const now = this.now();
    if (now - this.lastPrune >= this.pruneEveryMs) this.prune();
    const st = pid === 0 ? 'gone' : this.stateOf(pid, now);
    if (typeof st === 'string') {
      const reason: UnresolvedReason = st === 'gone' ? 'process-gone' : 'unreadable';
      return this.count(addrs.map((addr) => ({ addr, name: '[unknown]', resolved: false, reason })));
    }
    const budget: CallBudget = { mapsReread: false, perfRefreshed: false };
    return this.count(addrs.map((addr) => this.resolveUser(pid, st, addr, budget, now)));
  }

  /** A one-line hint on what would name more of this process's frames (see hintFor). */
  hint(pid: number): string | undefined {
    return hintFor(pid, { procRoot: this.procRoot, debugDirs: this.debugDirs });
  }

  /** The process exited: drop its maps and perf map (its files' tables stay cached for others). */
  forget(pid: number): void {
    this.drop(pid);
  }

  /** Drops the state of processes that exited or whose pid now names another process. */
  prune(): void {
    this.lastPrune = this.now();
    for (const [pid, st] of this.pids) {
      const t = readStartTime(this.procRoot, pid);
      if (t === undefined || t !== st.startTime) this.drop(pid);
    }
  }

  /** Forgets a process, keeping its perf map's counts in the totals (stats never go back). */
  private drop(pid: number): void {
    const st = this.pids.get(pid);
    if (!st) return;
    this.foldPerfCounts(st);
    this.pids.delete(pid);
  }

  private foldPerfCounts(st: PidState): void {
    if (!st.perf) return;
    this.counts.perfMapBadLines += st.perf.badLines;
    this.counts.perfMapDropped += st.perf.dropped;
    st.perf = undefined;
  }

  stats(): SymbolizerStats {
    let perfMapEntries = 0;
    let bad = this.counts.perfMapBadLines;
    let dropped = this.counts.perfMapDropped;
    for (const st of this.pids.values()) {
      if (!st.perf) continue;
      perfMapEntries += st.perf.size;
      bad += st.perf.badLines;
      dropped += st.perf.dropped;
    }
    return {
      cachedFiles: this.tables.size,
      cachedBytes: this.tables.bytes,
      evictions: this.tables.evictions,
      parsedFiles: this.counts.parsedFiles,
      pids: this.pids.size,
      pidEvictions: this.counts.pidEvictions,
      kernelSymbols: this.kernelSyms.count,
      kernelBytes: this.kernelSyms.bytes,
      perfMapEntries,
      perfMapBadLines: bad,
      perfMapDropped: dropped,
      resolved: this.counts.resolved,
      unresolved: { ...this.counts.unresolved },
    };
  }

  private count(frames: Frame[]): Frame[] {
    for (const f of frames) {
      if (f.resolved) this.counts.resolved++;
      else this.counts.unresolved[f.reason!]++;
    }
    return frames;
  }

  // ---- processes ----

  private stateOf(pid: number, now: number): PidState | 'gone' | 'unreadable' {
    const known = this.pids.get(pid);
    if (known) {
      this.pids.delete(pid); // most recently used goes last
      this.pids.set(pid, known);
      return known;
    }
    const startTime = readStartTime(this.procRoot, pid);
    let maps: Mapping[];
    try {
      maps = readMaps(this.procRoot, pid);
    } catch (e) {
      return errno(e) === 'ENOENT' || errno(e) === 'ESRCH' ? 'gone' : 'unreadable';
    }
    if (maps.length === 0) return 'gone'; // a zombie, or a kernel thread: no user memory
    const st: PidState = { startTime, maps, mapsReadAt: now, files: new Map(), perf: undefined, gone: false };
    this.pids.set(pid, st);
    for (const old of this.pids.keys()) {
      if (this.pids.size <= this.maxPids) break;
      this.drop(old);
      this.counts.pidEvictions++;
    }
    return st;
  }

  /** Reads the maps again (a library loaded since); notices an exit or a reused pid. */
  private rereadMaps(pid: number, st: PidState, now: number): void {
    st.mapsReadAt = now;
    let text: string;
    try {
      text = readFileSync(`${this.procRoot}/${pid}/maps`, 'utf8');
    } catch {
      st.gone = !existsSync(`${this.procRoot}/${pid}`);
      return;
    }
    const maps = parseMaps(text);
    if (maps.length === 0) {
      st.gone = true;
      return;
    }
    const startTime = readStartTime(this.procRoot, pid);
    if (startTime !== st.startTime) {
      // Another process now has this pid: nothing of the old one applies.
      st.startTime = startTime;
      st.files.clear();
      this.foldPerfCounts(st);
    }
    st.maps = maps;
  }

  private resolveUser(pid: number, st: PidState, addr: bigint, budget: CallBudget, now: number): Frame {
    if (addr < 0n || addr > MAX_USER) return { addr, name: '[unknown]', resolved: false, reason: 'no-mapping' };
    const a = Number(addr);
    let m = findMapping(st.maps, a);
    if (!m && !budget.mapsReread && !st.gone && now - st.mapsReadAt >= this.mapsRereadMs) {
      budget.mapsReread = true;
      this.rereadMaps(pid, st, now);
      m = findMapping(st.maps, a);
    }
    if (!m) return { addr, name: '[unknown]', resolved: false, reason: st.gone ? 'process-gone' : 'no-mapping' };
    if (m.path === VDSO) return this.inFile(addr, a, m, this.vdsoMemo(), VDSO);
    if (isAnonymous(m) || !m.path.startsWith('/')) return this.inAnonymous(pid, st, addr, a, m, budget);
    const key = (m.fileKey ??= `${m.inode}:${m.deleted ? 'deleted:' : ''}${m.path}`);
    let memo = st.files.get(key);
    if (!memo) {
      memo = this.openMapped(pid, st, m);
      st.files.set(key, memo);
    }
    return this.inFile(addr, a, m, memo, m.path, (failed) => st.files.set(key, failed));
  }

  /** JIT code: the process's perf map, read again (only what was appended) once per call. */
  private inAnonymous(pid: number, st: PidState, addr: bigint, a: number, m: Mapping, budget: CallBudget): Frame {
    if (!budget.perfRefreshed && !st.gone) {
      budget.perfRefreshed = true;
      if (!st.perf) {
        const nspid = readNsPid(this.procRoot, pid);
        st.perf = new PerfMap(perfMapPath(this.procRoot, pid, nspid), this.maxPerfMapEntries, `/tmp/perf-${nspid}.map`);
      }
      st.perf.refresh();
    }
    const hit = st.perf?.lookup(a);
    if (hit) return { addr, name: hit.name, module: st.perf!.label, offset: a - hit.start, resolved: true };
    const where = m.path === '' ? '[anon]' : m.path;
    return { addr, name: `[unknown] ${where}`, resolved: false, reason: m.exec ? 'no-perf-map' : 'no-mapping' };
  }

  private inFile(addr: bigint, a: number, m: Mapping, memo: FileMemo, module: string, onFail?: (failed: FileMemo) => void): Frame {
    const fileOffset = a - m.start + m.offset;
    if ('failed' in memo) {
      return { addr, name: `[unknown] ${basename(module)}+${hex(fileOffset)}`, module, moduleOffset: fileOffset, resolved: false, reason: memo.failed };
    }
    let table = this.tables.get(memo.key);
    if (!table) {
      // Evicted since: open the same file again (it may be gone by now).
      const reloaded = this.reload(memo);
      if ('failed' in reloaded) {
        onFail?.(reloaded);
        return this.inFile(addr, a, m, reloaded, module);
      }
      table = reloaded;
    }
    const vaddr = fileOffsetToVaddr(memo.loads, fileOffset) ?? fileOffset;
    const hit = table.lookup(vaddr);
    if (hit) return { addr, name: hit.name, module, offset: vaddr - hit.start, moduleOffset: vaddr, resolved: true };
    return { addr, name: `[unknown] ${basename(module)}+${hex(vaddr)}`, module, moduleOffset: vaddr, resolved: false, reason: 'stripped' };
  }

  // ---- files ----

  /**
   * Opens the file of mapping `m`: through the process's root (its mount namespace: a container's
   * /bin/busybox), checked to be the mapped inode; else (deleted, replaced by an upgrade, or a
   * different file under that path) through /proc/PID/map_files, which opens exactly what is mapped.
   */
  private openMapped(pid: number, st: PidState, m: Mapping): FileMemo {
    const candidates: string[] = [];
    if (!m.deleted) candidates.push(`${this.procRoot}/${pid}/root${m.path}`);
    candidates.push(`${this.procRoot}/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`);
    let malformed = false;
    for (const path of candidates) {
      let f: ElfFile;
      try {
        f = new ElfFile(path);
      } catch (e) {
        if (isEunomiaError(e)) malformed = true;
        continue;
      }
      try {
        if (m.inode !== 0 && f.ino !== m.inode) continue;
        return this.load(f, pid);
      } catch {
        malformed = true; // the same file by the other path would be as malformed
        break;
      } finally {
        f.close();
      }
    }
    if (!malformed && !existsSync(`${this.procRoot}/${pid}`)) {
      st.gone = true;
      return { failed: 'process-gone' };
    }
    return { failed: 'unreadable' };
  }

  /** The table of an open file, from the cache (by build id) or parsed now. */
  private load(f: ElfFile, pid: number | undefined): FileRef {
    const h = f.headers();
    // A stripped copy shares its original's build id: the key says which table the file has, so a
    // frame's name does not depend on which of the two was seen first.
    const key = h.buildId ? `build-id:${h.buildId}:${h.symbols}` : `file:${f.dev}:${f.ino}:${f.mtimeMs}:${f.size}`;
    if (!this.tables.get(key)) {
      let table: SymbolTable | undefined;
      if (h.symbols !== 'symtab' && h.buildId && pid !== undefined) table = this.debugTable(pid, h.buildId, h.loads);
      table ??= f.symbolTable(h.loads);
      this.counts.parsedFiles++;
      this.tables.set(key, table, table.bytes);
    }
    return { key, loads: h.loads, openPath: f.path, ino: f.ino, ...(pid !== undefined ? { pid } : {}) };
  }

  /** The .symtab of a separate debug file (/usr/lib/debug/.build-id/ab/cdef….debug) with the same build id. */
  private debugTable(pid: number, buildId: string, loads: LoadSegment[]): SymbolTable | undefined {
    for (const path of debugFileFor(this.procRoot, pid, buildId, this.debugDirs)) {
      let f: ElfFile | undefined;
      try {
        f = new ElfFile(path);
        const h = f.headers();
        if (h.buildId === buildId && h.symbols === 'symtab') return f.symbolTable(loads);
      } catch {
        // absent or malformed: the next candidate, else the file's own .dynsym
      } finally {
        f?.close();
      }
    }
    return undefined;
  }

  private reload(ref: FileRef): SymbolTable | { failed: UnresolvedReason } {
    let f: ElfFile | undefined;
    try {
      f = new ElfFile(ref.openPath, ref.region);
      if (!ref.region && f.ino !== ref.ino) return { failed: 'unreadable' };
      const again = this.load(f, ref.pid);
      return this.tables.peek(again.key) ?? { failed: 'unreadable' };
    } catch (e) {
      return { failed: errno(e) === 'ENOENT' ? 'process-gone' : 'unreadable' };
    } finally {
      f?.close();
    }
  }

  /** The vDSO is one image per kernel: read once, out of our own memory. */
  private vdsoMemo(): FileMemo {
    if (this.vdso) return this.vdso;
    let f: ElfFile | undefined;
    try {
      const own = parseMaps(readFileSync('/proc/self/maps', 'utf8')).find((m) => m.path === VDSO);
      if (!own) return (this.vdso = { failed: 'unreadable' });
      const region = { base: own.start, size: own.end - own.start };
      f = new ElfFile('/proc/self/mem', region);
      return (this.vdso = { ...this.load(f, undefined), region });
    } catch {
      return (this.vdso = { failed: 'unreadable' });
    } finally {
      f?.close();
    }
  }
}

function checkAddrs(addrs: readonly bigint[]): void {
  if (!Array.isArray(addrs)) throw new EunomiaError(ErrorCodes.OPTION, 'symbolizer: addresses must be an array of bigint');
  for (const a of addrs) {
    if (typeof a !== 'bigint') throw new EunomiaError(ErrorCodes.OPTION, `symbolizer: addresses must be bigint, got ${typeof a}`);
  }
}
