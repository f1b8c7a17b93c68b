/**
 * What an untrusted eBPF object holds, read from its ELF and BTF without the kernel or libbpf:
 * its programs (and their kinds, checked against the allow-list), maps and globals.
 */
import { MAP_TYPE_PERF_EVENT_ARRAY, MAP_TYPE_RINGBUF } from '../core/bpf-object.js';
import { Btf } from '../core/btf/index.js';
import { isEunomiaError } from '../core/errors.js';
import { readElfSectionList, readElfSymbols, STT_FUNC, type ElfSection } from '../core/elf.js';
import { attachKind } from '../core/sections.js';
import { bad, tooBig } from './fields.js';
import { PROGRAM_TYPES, programType, type HotloadLimits } from './limits.js';

const SHF_EXECINSTR = 0x4;
const ET_REL = 1;
const ELF_TYPES: Record<number, string> = { 2: 'an executable', 3: 'a shared object or PIE executable', 4: 'a core dump' };

export interface ProgramInfo {
  /** Function name: what libbpf calls the program. */
  name: string;
  /** ELF section, e.g. "tracepoint/syscalls/sys_enter_open". */
  section: string;
  /** Program kind (see PROGRAM_TYPES), e.g. "tracepoint". */
  type: string;
  /** False for "?"-prefixed sections: libbpf does not load them by default. */
  autoload: boolean;
}

export interface MapInfo {
  name: string;
  /** BPF_MAP_TYPE_*, when the map's BTF says it. */
  type: number | undefined;
}

export interface ObjectInfo {
  btf: Btf;
  programs: ProgramInfo[];
  maps: MapInfo[];
  /** Global-data sections libbpf makes internal maps of (.rodata, .data, .bss, .rodata.str1.1, …). */
  dataSections: string[];
}

export function isStreamMap(m: MapInfo): boolean {
  return m.type === MAP_TYPE_RINGBUF || m.type === MAP_TYPE_PERF_EVENT_ARRAY;
}

/** Checks that `elf` is a loadable, allowed eBPF object and lists what it holds. */
export function inspectObject(elf: Buffer, field: string, limits: HotloadLimits): ObjectInfo {
  if (elf.length > limits.maxObjectBytes) throw tooBig(field, elf.length, limits.maxObjectBytes);
  let sections: ElfSection[];
  try {
    // Magic, ELF64, little-endian, e_machine EM_BPF and every section bound are checked here.
    sections = readElfSectionList(elf);
  } catch (e) {
    throw wrap(field, e);
  }
  const type = elf.readUInt16LE(16);
  if (type !== ET_REL) {
    throw bad(field, `the ELF file is ${ELF_TYPES[type] ?? `of type ${type}`}, not a relocatable eBPF object — compile with clang -target bpf -c`);
  }
  if (!sections.some((s) => s.name === '.BTF')) throw bad(field, 'the object has no BTF (.BTF section) — compile with clang -g (llvm-strip -g keeps it; strip without -g removes it)');
  let btf: Btf;
  try {
    btf = Btf.fromElf(elf);
  } catch (e) {
    throw wrap(field, e);
  }
  if (sections.some((s) => s.name === 'maps')) throw bad(field, 'the object defines maps in a legacy "maps" section; define them with BTF in SEC(".maps")');
  const programs = listPrograms(elf, sections, field);
  checkPrograms(programs, field);
  let maps: MapInfo[];
  try {
    maps = btf.maps().map((name) => ({ name, type: btf.mapTypes(name)?.type }));
  } catch (e) {
    throw wrap(field, e);
  }
  const dataSections = sections.filter((s) => /^\.(rodata|data|bss)(\.|$)/.test(s.name)).map((s) => s.name);
  if (btf.datasec('.kconfig')) dataSections.push('.kconfig');
  return { btf, programs, maps, dataSections };
}

function wrap(field: string, e: unknown): Error {
  if (!isEunomiaError(e)) return e as Error;
  return bad(field, e.message.replace(/^invalid eBPF object: /, ''), e);
}

/** Global functions in executable sections other than .text (which holds subprograms). */
function listPrograms(elf: Buffer, sections: ElfSection[], field: string): ProgramInfo[] {
  let symbols;
  try {
    symbols = readElfSymbols(elf, sections);
  } catch (e) {
    throw wrap(field, e);
  }
  const out: ProgramInfo[] = [];
  for (const sec of sections) {
    if (!(sec.flags & SHF_EXECINSTR) || sec.name === '.text' || sec.size === 0) continue;
    for (const sym of symbols) {
      if (sym.type !== STT_FUNC || sym.shndx !== sec.index) continue;
      out.push({ name: sym.name, section: sec.name, type: programType(sec.name), autoload: !sec.name.startsWith('?') });
    }
  }
  if (out.length === 0) throw bad(field, 'the object has no programs (no function in a SEC("...") section)');
  return out;
}

/** Every loadable program must name its attach point (kinds are checked with their alternatives: alternatives.ts). */
function checkPrograms(programs: ProgramInfo[], field: string): void {
  for (const p of programs) {
    // Other kinds (xdp, tc, …) are refused as such by the plan (alternatives.ts).
    if (!p.autoload || p.type === 'perf_event' || attachKind(p.section) === 'auto' || !(PROGRAM_TYPES as readonly string[]).includes(p.type)) continue;
    throw bad(field, `program ${p.name} cannot be attached from its section name "${p.section}": a hot-loaded program names its attach point in the section, e.g. SEC("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc")`);
  }
}
