/**
 * funclatency's --func values: parsed (BINARY:FUNCTION, or a kernel FUNCTION), and each BINARY
 * resolved to the file to probe, in the root of the process (-p) or container (--container)
 * being traced.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import type { ContainerLookup, OptionValues, UprobeTarget } from '../../runtime/types.js';
import { containerIdOf, containerPids } from '../../containers/processes.js';

/** bpf/funclatency/funclatency.h: FUNCLATENCY_MAX_FUNCS. */
export const MAX_FUNCS = 64;

/** One --func value. */
export interface FuncSpec {
  /** BINARY as given (a path, or a library or program name); undefined: a kernel function. */
  binary?: string;
  func: string;
}

// A symbol as the binary's tables name it: C names, C++ mangled names, `name@VERSION`.
const SYMBOL = /^[A-Za-z_.$][\w.$@]*$/;

function optionError(message: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OPTION, `tracker funclatency: ${message}`);
}

/** The --func values, in order (their index is the attach cookie); throws E_OPTION on a malformed one. */
export function parseFuncs(raw: unknown): FuncSpec[] {
  if (raw === undefined || raw === '') {
    throw optionError('no function to measure — give --func BINARY:FUNCTION (e.g. --func /usr/bin/python3:main --func libc:malloc)');
  }
  const out: FuncSpec[] = [];
  const seen = new Set<string>();
  for (const item of String(raw).split(',')) {
    const s = item.trim();
    const at = s.lastIndexOf(':');
    const spec: FuncSpec = at < 0 ? { func: s } : { binary: s.slice(0, at), func: s.slice(at + 1) };
    if (spec.binary === '' || !SYMBOL.test(spec.func)) {
      throw optionError(`--func "${s}" is not BINARY:FUNCTION (a path or library name, a colon, and a symbol name such as main or _ZN3app3runEv)`);
    }
    const key = `${spec.binary ?? ''}:${spec.func}`;
    if (seen.has(key)) throw optionError(`--func "${s}" is given twice`);
    seen.add(key);
    out.push(spec);
  }
  if (out.length > MAX_FUNCS) throw optionError(`${out.length} functions: at most ${MAX_FUNCS} in one instance`);
  return out;
}

/** How rows and messages name a function: BINARY:FUNCTION as given, or the kernel function. */
export const funcLabel = (f: FuncSpec): string => (f.binary === undefined ? f.func : `${f.binary}:${f.func}`);

// Where a bare library name is looked for on the host (Debian's multiarch first), then PATH for a program.
const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];

/** Does a file name answer to a bare BINARY: itself, or a library's versioned name ("libc" → libc.so.6). */
const answersTo = (file: string, name: string): boolean => file === name || file.startsWith(`${name}.so`);

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** An ELF file (a library name may also be a linker script: libc.so in a -dev package). */
function isElf(p: string): boolean {
  if (!isFile(p)) return false;
  const magic = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(p, 'r');
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A bare name among the files a process maps (its program and libraries), as paths in its root. */
function mappedFile(pid: number, name: string): string | undefined {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
  const files = new Set<string>();
  for (const line of maps.split('\n')) {
    const i = line.indexOf(' /');
    if (i > 0) files.add(line.slice(i + 1).trim());
  }
  const all = [...files].filter((f) => !f.endsWith(' (deleted)'));
  return all.find((f) => basename(f) === name) ?? all.find((f) => answersTo(basename(f), name));
}

/** A bare name on a filesystem root: a library in the usual directories, else a program on PATH. */
function searchedFile(root: string, name: string): string | undefined {
  for (const dir of LIBRARY_DIRS) {
    if (isElf(`${root}${dir}/${name}`)) return `${dir}/${name}`;
    let names: string[];
    try {
      names = readdirSync(`${root}${dir}`);
    } catch {
      continue;
    }
    const lib = names
      .filter((n) => answersTo(n, name))
      .sort()
      .find((n) => isElf(`${root}${dir}/${n}`));
    if (lib) return `${dir}/${lib}`;
  }
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir.startsWith('/') && isElf(`${root}${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/**
 * The root BINARY is found in: the traced process's, the first selected container's, or the
 * host's; `mapsOf`: a process there whose mapped files name a bare BINARY; `pid`: the one the
 * probes are restricted to (-p: no other process takes the breakpoint).
 */
function rootOf(options: OptionValues, containers?: ContainerLookup): { root: string; mapsOf?: number; pid?: number; where: string } {
  if (typeof options.pid === 'number') {
    const pid = options.pid;
    if (!existsSync(`/proc/${pid}`)) throw optionError(`-p ${pid}: no such process`);
    // A process Eunomia may not look into (its root unreadable): its files are taken as the host's.
    if (!existsSync(`/proc/${pid}/root/`)) return { root: '', pid, where: `on the host (process ${pid}'s root cannot be read)` };
    return { root: `/proc/${pid}/root`, mapsOf: pid, pid, where: `in process ${pid}'s root` };
  }
  const selectors = typeof options.container === 'string' && options.container !== '' ? options.container.split(',') : [];
  if (selectors.length === 0) return { root: '', where: 'on the host' };
  const s = selectors[0]!.trim();
  const pid = containerPids(containerIdOf('funclatency', s, containers), 1)[0];
  if (pid === undefined) throw new EunomiaError(ErrorCodes.CONTAINER, `tracker funclatency: --container ${s}: no running container with this id to find BINARY in — start it first, or give BINARY as a host path`);
  return { root: `/proc/${pid}/root`, mapsOf: pid, where: `in container ${s}'s root` };
}

/** The file to probe for one BINARY, as a host path. */
function resolveBinary(binary: string, root: string, mapsOf: number | undefined, where: string): string {
  // A host path given explicitly (/proc/<pid>/root/…) is used as is.
  if (binary.startsWith('/proc/')) {
    if (!isFile(binary)) throw optionError(`BINARY ${binary}: no such file`);
    return binary;
  }
  if (binary.includes('/')) {
    if (root && !isAbsolute(binary)) throw optionError(`BINARY ${binary}: give an absolute path (it is looked up ${where})`);
    const path = `${root}${resolve(binary)}`;
    if (!isFile(path)) throw optionError(`BINARY ${binary}: no such file ${where}`);
    return path;
  }
  const found = (mapsOf !== undefined ? mappedFile(mapsOf, binary) : undefined) ?? searchedFile(root, binary);
  if (!found) throw optionError(`BINARY ${binary}: no library or program of that name ${where} — give its path`);
  return `${root}${found}`;
}

/** What the runtime attaches: fl_return and fl_entry on each user function, the function's index as cookie. */
export function uprobeTargets(options: OptionValues, containers?: ContainerLookup): UprobeTarget[] {
  const funcs = parseFuncs(options.func);
  const { root, mapsOf, pid, where } = rootOf(options, containers);
  const out: UprobeTarget[] = [];
  funcs.forEach((f, cookie) => {
    if (f.binary === undefined) return; // refused by validate
    const binary = resolveBinary(f.binary, root, mapsOf, where);
    const spec = { binary, func: f.func, cookie, ...(pid === undefined ? {} : { pid }) };
    const label = funcLabel(f) + (binary === f.binary ? '' : ` (${binary})`);
    // The return first: a call entered between the two attachments then returns with no entry
    // seen (ignored), rather than leaving an entry that no return pops.
    out.push({ program: 'fl_return', spec: { ...spec, retprobe: true }, label }, { program: 'fl_entry', spec, label });
  });
  return out;
}
