/**
 * The symbolizer's vocabulary: a Frame is one stack address turned into a name, or an honest
 * statement of why it could not be (`reason`), so a profile never hides a bad stack behind a
 * plausible-looking but wrong name.
 */

/**
 * Why a frame has no name.
 * - `no-mapping`: the address is in no executable mapping of the process (or, for the kernel,
 *   is not a kernel text address): usually a broken stack walk (no frame pointers).
 * - `stripped`: the address is in an ELF file, but no symbol of it covers the address.
 * - `no-perf-map`: the address is in anonymous (JIT) memory and no perf map (or no entry of
 *   it) covers it.
 * - `unreadable`: the file (or /proc/kallsyms) could not be read or is malformed.
 * - `process-gone`: the process exited before its maps or files could be read.
 */
export type UnresolvedReason = 'no-mapping' | 'stripped' | 'no-perf-map' | 'unreadable' | 'process-gone';

export const UNRESOLVED_REASONS: readonly UnresolvedReason[] = ['no-mapping', 'stripped', 'no-perf-map', 'unreadable', 'process-gone'];

export interface Frame {
  addr: bigint;
  /** The symbol's name; when unresolved, `[unknown]` or `[unknown] <module basename>+0x<moduleOffset>`. */
  name: string;
  /**
   * Where the code lives: the file's path as the process sees it (`/usr/lib/x86_64-linux-gnu/libc.so.6`,
   * `/bin/busybox` inside a container), `[vdso]`, the perf map (`/tmp/perf-<pid>.map`, the path the
   * process wrote) for JIT code named by one;
   * for the kernel `vmlinux` or the module's name (`ext4`, `bpf`).
   */
  module?: string;
  /** Bytes from the symbol's start (resolved frames only). */
  offset?: number;
  /**
   * The address relative to its file: the ELF virtual address (what `addr2line -e FILE` takes)
   * when the file's program headers could be read, else the offset in the file.
   */
  moduleOffset?: number;
  resolved: boolean;
  reason?: UnresolvedReason;
}

export interface SymbolizerOptions {
  /** Where /proc is (tests point it at a fake tree). Default `/proc`. */
  procRoot?: string;
  /** Default `/proc/kallsyms`. */
  kallsymsPath?: string;
  /** Byte budget of the cached ELF symbol tables (least recently used go first). Default 64 MiB. */
  maxCachedBytes?: number;
  /** Most ELF symbol tables cached. Default 512. */
  maxCachedFiles?: number;
  /** Most processes whose maps and perf map are remembered (least recently used go first). Default 1024. */
  maxPids?: number;
  /** Most perf map entries kept per process (after overridden ones are dropped). Default 200,000. */
  maxPerfMapEntries?: number;
  /**
   * An address in no known mapping re-reads /proc/PID/maps (a library loaded since), at most
   * once per call and not sooner than this after the last read. Default 100 ms.
   */
  mapsRereadMs?: number;
  /** How often processes that exited are dropped (checked during calls). Default 10 s. */
  pruneEveryMs?: number;
  /** Where separate debug files are looked up by build id (`<dir>/.build-id/ab/cdef….debug`). Default `['/usr/lib/debug']`. */
  debugDirs?: string[];
  /** Milliseconds clock (injected for tests). Default `Date.now`. */
  now?: () => number;
}

export interface SymbolizerStats {
  /** ELF symbol tables in the cache, and their size in bytes. */
  cachedFiles: number;
  cachedBytes: number;
  /** Tables dropped from the cache to stay within its budget. */
  evictions: number;
  /** ELF symbol tables parsed (a re-parse after an eviction counts again). */
  parsedFiles: number;
  /** Processes whose state is remembered, and how many were dropped to stay within maxPids. */
  pids: number;
  pidEvictions: number;
  /** Kernel text symbols loaded (0 until the first kernel() call). */
  kernelSymbols: number;
  kernelBytes: number;
  /** Perf map entries held, over all processes; lines that were not `START SIZE name`; entries dropped at the cap. */
  perfMapEntries: number;
  perfMapBadLines: number;
  perfMapDropped: number;
  resolved: number;
  unresolved: Record<UnresolvedReason, number>;
}
