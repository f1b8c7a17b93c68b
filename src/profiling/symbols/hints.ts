/**
 * One line telling the user why a process's frames stay unnamed and what would name them:
 * a profile full of `[unknown]` is only useful if it says which switch was missing. What one
 * address cannot tell (a binary built without frame pointers, whose stacks are cut short) is
 * left out; what the file can tell (no symbol table) is said.
 */
import { existsSync } from 'node:fs';
import { ElfFile } from './elf-file.js';
import { readComm, readExeName, readNsPid } from './proc.js';

export const NODE_HINT = 'start node with --perf-basic-prof-only-functions to name its JavaScript frames';

/*
 * LuaJIT (lj_trace.c) writes /tmp/perf-<pid>.map only when compiled with LUAJIT_USE_PERFTOOLS,
 * a define with no run-time switch, and names only compiled traces there, as
 * "TRACE_<n>::<chunk>:<line>"; interpreted code runs in the VM's own functions (lj_BC_*, lj_vm_*).
 */
export const LUAJIT_HINT =
  'LuaJIT writes no perf map unless it was compiled with -DLUAJIT_USE_PERFTOOLS (make XCFLAGS=-DLUAJIT_USE_PERFTOOLS); ' +
  'such a build names its compiled traces TRACE_<n>::<file>:<line> in /tmp/perf-<pid>.map, and interpreted Lua shows as the VM\'s own functions';

export function strippedHint(exe: string): string {
  return `${exe} has no symbol table (stripped): its own functions show as [unknown]; install its debug symbols (a .debug file under /usr/lib/debug/.build-id/) or run an unstripped build`;
}

export interface HintOptions {
  procRoot?: string;
  /** Where separate debug files are found by build id; one there means the binary is not really stripped. */
  debugDirs?: string[];
}

/** The perf map a process would write, as seen from outside its mount namespace. */
export function perfMapPath(procRoot: string, pid: number, nspid = readNsPid(procRoot, pid)): string {
  return `${procRoot}/${pid}/root/tmp/perf-${nspid}.map`;
}

/** Whether a separate debug file with `buildId` exists, seen from the process's root or the host. */
export function debugFileFor(procRoot: string, pid: number, buildId: string, debugDirs: readonly string[]): string[] {
  const rel = `.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`;
  return debugDirs.flatMap((d) => [`${procRoot}/${pid}/root${d}/${rel}`, `${d}/${rel}`]);
}

/**
 * A one-line hint for `pid`, or undefined when there is nothing to say (or the process is gone):
 * Node or LuaJIT without a perf map, or an executable without a symbol table.
 */
export function hintFor(pid: number, opts: HintOptions = {}): string | undefined {
  const procRoot = opts.procRoot ?? '/proc';
  const exe = readExeName(procRoot, pid);
  const comm = readComm(procRoot, pid);
  if (exe === undefined && comm === undefined) return undefined;
  const hasPerfMap = (): boolean => existsSync(perfMapPath(procRoot, pid));
  if ((exe === 'node' || exe === 'nodejs' || comm === 'node') && !hasPerfMap()) return NODE_HINT;
  if ((exe?.startsWith('luajit') || comm?.startsWith('luajit')) && !hasPerfMap()) return LUAJIT_HINT;
  let f: ElfFile | undefined;
  try {
    f = new ElfFile(`${procRoot}/${pid}/exe`);
    const h = f.headers();
    if (h.symbols === 'symtab') return undefined;
    if (h.buildId && debugFileFor(procRoot, pid, h.buildId, opts.debugDirs ?? ['/usr/lib/debug']).some((p) => existsSync(p))) return undefined;
    return strippedHint(exe ?? comm ?? `process ${pid}`);
  } catch {
    return undefined; // unreadable or not ELF (a script's interpreter is ELF; this is rare): nothing known
  } finally {
    f?.close();
  }
}
