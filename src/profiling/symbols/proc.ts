/**
 * What /proc says about a process that the symbolizer needs: its mappings (which file, at which
 * offset, holds an address), its start time (to notice a reused pid), its pid in its own pid
 * namespace (the name of its perf map), its executable and comm (for hints). Only the parsing
 * is here; the reads throw the fs error for the caller to classify (gone, or unreadable).
 */
import { readFileSync, readlinkSync } from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  /** Offset in the file of `start`. */
  offset: number;
  exec: boolean;
  /** st_ino of the mapped file (0 when anonymous). */
  inode: number;
  /** The path as the process sees it, without " (deleted)"; '' when anonymous; `[vdso]`, `[heap]`, `[anon:…]` … */
  path: string;
  deleted: boolean;
  /** The symbolizer's key for the file (set on first use: one string per mapping, not per frame). */
  fileKey?: string;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) *(.*)$/;
const DELETED = ' (deleted)';

/** True for memory not backed by a regular file: where JIT compilers put code. */
export function isAnonymous(m: Mapping): boolean {
  if (m.path === '' || m.path.startsWith('[anon') || m.path === '[heap]' || m.path.startsWith('[stack')) return true;
  return m.path.startsWith('/memfd:'); // double-mapped JIT code (.NET, wasmtime)
}

/**
 * Executable mappings and anonymous ones (JIT code may be caught writable, mid-update),
 * sorted by address. Data mappings of files are left out: no stack points into them.
 */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const start = parseInt(m[1]!, 16);
    const end = parseInt(m[2]!, 16);
    if (!(end > start) || end > Number.MAX_SAFE_INTEGER) continue; // [vsyscall] sits above 2^53
    let path = m[7]!;
    const deleted = path.endsWith(DELETED);
    if (deleted) path = path.slice(0, -DELETED.length);
    const mapping: Mapping = { start, end, offset: parseInt(m[4]!, 16), exec: m[3]![2] === 'x', inode: Number(m[6]), path, deleted };
    if (mapping.exec || !path.startsWith('/') || isAnonymous(mapping)) out.push(mapping);
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** The mapping holding `addr`, by binary search. */
export function findMapping(maps: readonly Mapping[], addr: number): Mapping | undefined {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = maps[mid]!;
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}

export function readMaps(procRoot: string, pid: number): Mapping[] {
  return parseMaps(readFileSync(`${procRoot}/${pid}/maps`, 'utf8'));
}

/** Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, it names one process. */
export function readStartTime(procRoot: string, pid: number): string | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** The process's pid in its own pid namespace (last field of `NSpid:`), or `pid` when the kernel does not say. */
export function readNsPid(procRoot: string, pid: number): number {
  try {
    const status = readFileSync(`${procRoot}/${pid}/status`, 'latin1');
    const m = /^NSpid:\s*([\d\s]+)$/m.exec(status);
    const last = m?.[1]!.trim().split(/\s+/).pop();
    const n = Number(last);
    return last && Number.isSafeInteger(n) && n > 0 ? n : pid;
  } catch {
    return pid;
  }
}

/** Base name of the executable (without " (deleted)"), or undefined when unreadable. */
export function readExeName(procRoot: string, pid: number): string | undefined {
  try {
    const exe = readlinkSync(`${procRoot}/${pid}/exe`);
    const path = exe.endsWith(DELETED) ? exe.slice(0, -DELETED.length) : exe;
    return path.slice(path.lastIndexOf('/') + 1);
  } catch {
    return undefined;
  }
}

export function readComm(procRoot: string, pid: number): string | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
