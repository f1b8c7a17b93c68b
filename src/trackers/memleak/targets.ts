/**
 * memleak's user mode: which allocator to probe, and where. The C library the traced process
 * maps (-p), or the ones a container's processes map (--container ID), found in
 * /proc/PID/maps and opened through /proc/PID/root (a container's own libc); --obj names
 * another allocator (jemalloc, a static binary). Each function it defines is attached once,
 * whatever its aliases (glibc's aligned_alloc is memalign, mmap64 is mmap).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import type { ContainerLookup, OptionValues, UprobeTarget } from '../../runtime/types.js';
import { containerIdOf, containerPids } from '../../containers/processes.js';
import { elfFunctions } from './elf-functions.js';

/** bpf/memleak/memleak.h: MEMLEAK_FN_*, the attach cookie of ml_alloc_enter. */
const FN = { MALLOC: 0, CALLOC: 1, REALLOC: 2, MEMALIGN: 3, POSIX_MEMALIGN: 4, MMAP: 5 } as const;

/** The functions that allocate, with how their arguments are read (the cookie). */
export const ALLOCATING: readonly (readonly [string, number])[] = [
  ['malloc', FN.MALLOC],
  ['calloc', FN.CALLOC],
  ['realloc', FN.REALLOC],
  ['posix_memalign', FN.POSIX_MEMALIGN],
  ['aligned_alloc', FN.MEMALIGN],
  ['memalign', FN.MEMALIGN],
  ['valloc', FN.MALLOC],
  ['pvalloc', FN.MALLOC],
  ['mmap', FN.MMAP],
  ['mmap64', FN.MMAP],
];
/** The functions that free the block at their first argument. */
export const FREEING: readonly string[] = ['free', 'munmap'];

export const USER_PROGRAMS = ['ml_alloc_enter', 'ml_alloc_return', 'ml_free', 'ml_exec', 'ml_exit'];

function optionError(message: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OPTION, `tracker memleak: ${message}`);
}

const containers = (o: OptionValues): string[] =>
  typeof o.container === 'string' && o.container !== ''
    ? o.container
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/** Kernel mode: asked for (--kernel), or no process to probe (no -p, no --container). */
export function kernelMode(o: OptionValues): boolean {
  return o.kernel === true || (typeof o.pid !== 'number' && containers(o).length === 0);
}

/** A C library: glibc's libc.so.6 (libc-2.xx.so before 2.34), musl's (the dynamic linker is its libc). */
const LIBC = /^(libc\.so(\.\d+)*|libc-[\d.]+\.so|ld-musl-[^/]+\.so\.1|libc\.musl-[^/]+\.so\.1)$/;

/** Does a mapped file's name answer to --obj NAME (default: the C library)? */
function answersTo(file: string, name: string | undefined): boolean {
  const b = basename(file);
  if (name === undefined) return LIBC.test(b);
  return b === name || b.startsWith(`${name}.so`);
}

interface Mapped {
  path: string;
  inode: number;
  start: string;
  end: string;
}

/** The files a process maps (its program and libraries), as paths in its own root. */
function mappedFiles(pid: number): Mapped[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return [];
  }
  const out: Mapped[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[4]!.endsWith(' (deleted)') || seen.has(m[4]!)) continue;
    seen.add(m[4]!);
    out.push({ start: m[1]!, end: m[2]!, inode: Number(m[3]), path: m[4]! });
  }
  return out;
}

/** The host path of a file a process maps: through its root, or (replaced since) the mapping itself. */
function hostPath(pid: number, m: Mapped): string {
  const viaRoot = `/proc/${pid}/root${m.path}`;
  try {
    if (statSync(viaRoot).ino === m.inode) return viaRoot;
  } catch {
    // not there any more: the mapping still is
  }
  return `/proc/${pid}/map_files/${m.start}-${m.end}`;
}

/** One file to probe: where it is for the kernel, how a message names it, whose root it is in. */
interface Allocator {
  path: string;
  shown: string;
}

/** --obj as given: a host path under /proc/, or a path in the process's root, or a name among its mapped files. */
function allocatorOf(pid: number, obj: string | undefined): Allocator | undefined {
  if (obj?.startsWith('/proc/')) return existsSync(obj) ? { path: obj, shown: obj } : undefined;
  if (obj?.startsWith('/')) {
    const p = `/proc/${pid}/root${obj}`;
    return existsSync(p) ? { path: p, shown: obj } : undefined;
  }
  const m = mappedFiles(pid).find((f) => answersTo(f.path, obj));
  return m ? { path: hostPath(pid, m), shown: m.path } : undefined;
}

const what = (obj: string | undefined): string => (obj === undefined ? 'a C library (libc.so.6, ld-musl)' : `"${obj}"`);

/** The allocator files to probe, and the process the probes are restricted to (-p). */
function allocators(o: OptionValues, lookup?: ContainerLookup): { files: Allocator[]; pid?: number } {
  const obj = typeof o.obj === 'string' && o.obj !== '' ? o.obj : undefined;
  if (typeof o.pid === 'number') {
    const pid = o.pid;
    if (!existsSync(`/proc/${pid}`)) throw optionError(`-p ${pid}: no such process`);
    const a = allocatorOf(pid, obj);
    if (!a) {
      throw optionError(
        obj === undefined
          ? `process ${pid} maps no C library (statically linked?) — give the file that has its malloc and free with --obj (e.g. --obj /proc/${pid}/exe)`
          : `--obj ${obj}: process ${pid} maps no such file (nor is it in its root)`,
      );
    }
    return { files: [a], pid };
  }
  const files = new Map<string, Allocator>();
  for (const s of containers(o)) {
    const pids = containerPids(containerIdOf('memleak', s, lookup));
    if (pids.length === 0) throw new EunomiaError(ErrorCodes.CONTAINER, `tracker memleak: --container ${s}: no running container with this id to find its allocator in — start it first`);
    for (const pid of pids) {
      const a = allocatorOf(pid, obj);
      if (!a) continue;
      try {
        const st = statSync(a.path);
        files.set(`${st.dev}:${st.ino}`, a);
      } catch {
        // the process exited meanwhile
      }
    }
    if (files.size === 0) throw optionError(`--container ${s}: none of its ${pids.length} processes maps ${what(obj)} (statically linked?) — give the file that has malloc and free with --obj`);
  }
  return { files: [...files.values()] };
}

/** What the runtime attaches in user mode: each allocating function (entry and return) and each freeing one, in each allocator file. */
export function uprobeTargets(o: OptionValues, lookup?: ContainerLookup): UprobeTarget[] {
  if (kernelMode(o)) return [];
  const { files, pid } = allocators(o, lookup);
  const out: UprobeTarget[] = [];
  for (const f of files) {
    let funcs: Map<string, number>;
    try {
      funcs = elfFunctions(f.path);
    } catch (e) {
      throw optionError(`${f.shown}: cannot read its symbols (${(e as Error).message})`);
    }
    const missing = ['malloc', 'free'].filter((n) => !funcs.has(n));
    if (missing.length) throw optionError(`${f.shown} defines no ${missing.join(' or ')}: not an allocator — name the library that has them with --obj (e.g. libjemalloc)`);
    const at = (spec: { func: string; cookie?: number; retprobe?: boolean }) => ({ binary: f.path, ...spec, ...(pid === undefined ? {} : { pid }) });
    const attached = new Set<number>();
    for (const [func, cookie] of ALLOCATING) {
      const addr = funcs.get(func);
      if (addr === undefined || attached.has(addr)) continue; // absent, or an alias of one attached
      attached.add(addr);
      const label = `${f.shown}:${func}`;
      out.push({ program: 'ml_alloc_enter', spec: at({ func, cookie }), label }, { program: 'ml_alloc_return', spec: at({ func, cookie, retprobe: true }), label: `${label} return` });
    }
    for (const func of FREEING) {
      if (funcs.has(func)) out.push({ program: 'ml_free', spec: at({ func }), label: `${f.shown}:${func}` });
    }
  }
  return out;
}
