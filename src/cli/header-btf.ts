/**
 * An event type's BTF from outside the object (`eunomia client push --header/--btf`). Objects
 * such as libbpf-tools' keep their event struct only as a local variable, and clang emits BTF
 * only for types the code names, so the object alone cannot decode its records. From a header,
 * a one-line C file names the type after including it, clang compiles that as bpf/Makefile
 * compiles trackers, and the .BTF section is the answer: the layout the tool was built with.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Btf } from '../core/btf/index.js';
import { readElfSections } from '../core/elf.js';
import { EunomiaError, ErrorCodes, isEunomiaError } from '../core/errors.js';

/** The package's bpf/include: dist/src/cli and dist/bundle/cli are at the same depth. */
export const bpfIncludeDir = fileURLToPath(new URL('../../../bpf/include/', import.meta.url));

/** __TARGET_ARCH_* as bpf/Makefile derives it from `uname -m` (bpf_tracing.h needs it). */
const TARGET_ARCH: Record<string, string> = { x64: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390', ppc64: 'powerpc', riscv64: 'riscv', loong64: 'loongarch' };

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const BTF_MAGIC = 0xeb9f;

const NO_CLANG = 'install clang, or pass --btf FILE built elsewhere, or --raw to stream the records undecoded';

export interface HeaderBtf {
  /** A raw BTF blob: the bytes of a .BTF section. */
  btf: Buffer;
  /** The struct's own name in the BTF; '' when NAME is a typedef of an anonymous struct. */
  struct: string;
  /** sizeof the type, in bytes. */
  size: number;
}

/** clang to use: $CLANG, else clang-16 or clang on PATH (the versions bpf/Makefile prefers). */
export function findClang(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CLANG) return env.CLANG;
  for (const name of ['clang-16', 'clang']) {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const p = join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        if (statSync(p).isFile()) return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

interface Compiled {
  /** The object; with -E, the preprocessed text. Absent when clang failed. */
  output?: Buffer;
  stderr: string;
}

/** The BTF of `header`'s struct (or typedef) `event`, compiled with clang for target bpf. */
export function headerBtf(header: string, event: string, opts: { includes?: string[]; clang?: string } = {}): HeaderBtf {
  if (!/^[A-Za-z_]\w*$/.test(event)) throw new EunomiaError(ErrorCodes.USAGE, `--event expects a C type name (a struct or typedef), got "${event}"`);
  const path = resolve(header);
  if (!existsSync(path) || !statSync(path).isFile()) throw new EunomiaError(ErrorCodes.IO, `header ${header} not found — give the path of the tool's .h file`);
  // A header-name is taken literally by the preprocessor: these characters cannot be written.
  if (/["\n]/.test(path)) throw new EunomiaError(ErrorCodes.USAGE, `header path ${JSON.stringify(path)} has a quote or a line break: rename or copy it`);
  const includes = (opts.includes ?? []).map((d) => resolve(d));
  // The user's -I dirs come first, so a tool's own vmlinux.h (libbpf-tools/x86/) wins.
  if (![...includes, bpfIncludeDir].some((d) => existsSync(join(d, 'vmlinux.h')))) {
    throw new EunomiaError(ErrorCodes.IO, `${join(bpfIncludeDir, 'vmlinux.h')} is missing — "npm run setup" generates it from this kernel's BTF, or pass -I DIR of a vmlinux.h`);
  }
  const clang = opts.clang ?? findClang();
  if (!clang) throw new EunomiaError(ErrorCodes.USAGE, `--header needs clang to compile ${basename(path)}, and neither $CLANG, clang-16 nor clang is on PATH — ${NO_CLANG}`);
  const name = basename(path);

  const dir = mkdtempSync(join(tmpdir(), 'eunomia-header-'));
  try {
    const compile = (decl: string): Compiled => compileKeep(clang, dir, path, includes, `${decl} __eunomia_keep_${event} __attribute__((used));`);
    let out = compile(`struct ${event}`);
    if (!out.output) {
      const headerErrors = errorsOutside(out.stderr, join(dir, 'keep.c'));
      if (headerErrors) throw notCompiling(name, headerErrors, out.stderr);
      // Not a complete struct: perhaps a typedef name (`typedef struct {…} event_t;`).
      out = compile(event);
    }
    if (!out.output) throw noType(name, event, clang, dir, path, includes);
    return extract(out.output, event, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compileKeep(clang: string, dir: string, header: string, includes: string[], keep: string, extra: string[] = []): Compiled {
  const src = join(dir, 'keep.c');
  const obj = join(dir, 'keep.o');
  rmSync(obj, { force: true });
  writeFileSync(src, `/* eunomia client push --header: names the event type so that clang keeps it in the BTF */\n#include "vmlinux.h"\n#include "${header}"\n${keep}\n`);
  const arch = TARGET_ARCH[process.arch] ?? process.arch;
  // bpf/Makefile's target and flags (they decide the layout); its -Wall -Werror are left out,
  // since a third-party header's warnings are not ours to fix.
  const args = ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`, '-fms-extensions', '-Wno-microsoft-anon-tag', '-w',
    ...includes.flatMap((d) => ['-I', d]), '-I', bpfIncludeDir, ...extra, '-c', src, '-o', obj];
  const r = spawnSync(clang, args, { cwd: dir, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new EunomiaError(ErrorCodes.USAGE, `cannot run clang "${clang}": ${code} — ${NO_CLANG}`, { cause: r.error });
    throw new EunomiaError(ErrorCodes.IO, `clang "${clang}" failed to run: ${r.error.message}`, { cause: r.error });
  }
  if (r.status !== 0) return { stderr: r.stderr };
  return { output: readFileSync(obj), stderr: r.stderr };
}

/** clang's first diagnostics located outside `file` (the generated source), or ''. */
function errorsOutside(stderr: string, file: string): string {
  const lines = stderr.split('\n');
  const first = lines.findIndex((l) => /^(.+?):\d+:\d+: (?:fatal )?error:/.exec(l)?.[1] !== undefined && !l.startsWith(file + ':'));
  return first < 0 ? '' : firstLines(lines.slice(first).join('\n'));
}

function firstLines(stderr: string, n = 6): string {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^\d+ errors? generated\.$/.test(l)).slice(0, n).map((l) => `  ${l}`).join('\n');
}

function notCompiling(name: string, errors: string, log: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, `header ${name} does not compile with vmlinux.h for target bpf — fix it, or pass -I DIR for the headers it includes:\n${errors}`, { log });
}

function noType(name: string, event: string, clang: string, dir: string, header: string, includes: string[]): EunomiaError {
  const defined = definedTypes(clang, dir, header, includes);
  const list = defined.length ? ` (it defines ${defined.join(', ')})` : ' (it defines no struct or typedef)';
  return new EunomiaError(ErrorCodes.USAGE, `header ${name} has no struct or typedef named ${event}${list} — pass the name of the event struct with --event`);
}

/**
 * The structs and typedefs the header defines, for the error message. They are in no BTF
 * (nothing names them), so they come from the preprocessed text: the lines whose line markers
 * point into the header or into headers next to it (a tool's own), not vmlinux.h or the system's.
 */
function definedTypes(clang: string, dir: string, header: string, includes: string[]): string[] {
  const out = compileKeep(clang, dir, header, includes, '', ['-E']);
  if (!out.output) return [];
  let own = false;
  const text: string[] = [];
  for (const line of out.output.toString('utf8').split('\n')) {
    const marker = /^# \d+ "(.*)"/.exec(line);
    if (marker) own = dirname(marker[1]!) === dirname(header) && basename(marker[1]!) !== 'vmlinux.h';
    else if (own) text.push(line);
  }
  return [...new Set(typeNames(text.join('\n')))];
}

/** `struct X {`, `union X {` and `typedef … X;` at file scope, in order. */
function typeNames(c: string): string[] {
  const names: string[] = [];
  const tokens = c.match(/[A-Za-z_]\w*|[{}();[\]]/g) ?? [];
  let depth = 0;
  let typedef: 'no' | 'yes' | 'function' = 'no';
  let last = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '{' || t === '(' || t === '[') {
      const tag = tokens[i - 2];
      if (depth === 0 && t === '{' && (tag === 'struct' || tag === 'union') && /^\w+$/.test(tokens[i - 1]!)) names.push(`${tag} ${tokens[i - 1]}`);
      if (depth === 0 && t === '(' && typedef === 'yes') typedef = 'function'; // typedef int (*fn)(…): not a record
      depth++;
    } else if (t === '}' || t === ')' || t === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0 && t === 'typedef') typedef = 'yes';
    else if (depth === 0 && t === ';') {
      if (typedef === 'yes' && last) names.push(last);
      typedef = 'no';
      last = '';
    } else if (depth === 0) last = t;
  }
  return names;
}

function extract(obj: Buffer, event: string, name: string): HeaderBtf {
  const sec = readElfSections(obj).get('.BTF');
  if (!sec) throw new EunomiaError(ErrorCodes.IO, `clang made no .BTF section for ${name} — is it a clang that supports -target bpf -g?`);
  return eventIn(Buffer.from(sec.data), event, `header ${name}`); // a copy: the section is a view into the object
}

/** --btf FILE: a raw BTF blob (magic 0xeb9f) as it is, or an ELF object's .BTF section. */
export function fileBtf(file: string, event: string): HeaderBtf {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new EunomiaError(ErrorCodes.IO, `cannot read --btf ${file}: ${(e as Error).message}`);
  }
  if (data.length >= 2 && data.readUInt16LE(0) === BTF_MAGIC) return eventIn(data, event, `--btf ${file}`);
  if (data.subarray(0, 4).equals(ELF_MAGIC)) {
    const sec = readElfSections(data).get('.BTF');
    if (!sec) throw new EunomiaError(ErrorCodes.USAGE, `--btf ${file} is an ELF file without a .BTF section — compile it with clang -g`);
    return eventIn(Buffer.from(sec.data), event, `--btf ${file}`);
  }
  throw new EunomiaError(ErrorCodes.USAGE, `--btf ${file} is neither raw BTF (magic 0xeb9f) nor an ELF object with a .BTF section`);
}

/** `event` in the BTF, as the server looks it up: a struct, or a typedef of a struct or union. */
function eventIn(btf: Buffer, event: string, where: string): HeaderBtf {
  let parsed: Btf;
  try {
    parsed = Btf.parse(btf);
  } catch (e) {
    if (!isEunomiaError(e)) throw e;
    throw new EunomiaError(ErrorCodes.USAGE, `${where}: ${e.message}`, { cause: e });
  }
  const t = parsed.find(event, 'struct') ?? parsed.find(event, 'union') ?? parsed.find(event, 'typedef');
  if (!t) {
    const structs = parsed.types.filter((x) => x.kind === 'struct' && x.name).map((x) => x.name);
    const list = structs.length > 20 ? `${structs.slice(0, 20).join(', ')}, …` : structs.join(', ') || 'none';
    throw new EunomiaError(ErrorCodes.USAGE, `${where} has no struct or typedef named ${event} (structs: ${list})`);
  }
  const target = parsed.resolve(t.id);
  if (target.kind !== 'struct' && target.kind !== 'union') {
    throw new EunomiaError(ErrorCodes.USAGE, `${event} in ${where} is a typedef of ${parsed.describe(target.id)}, not of a struct — pass the event struct with --event`);
  }
  return { btf, struct: target.name, size: target.size! };
}
